#include "testutil.h"
int main(void){ Suite *s = suite_create("chan"); return run_suite(s); }
