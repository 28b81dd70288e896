// Channels (Go's chan.c): being written; see issue 3.
#include "gort.h"
#include "runtime.h"

GORT_API GortChan* gort_chan_make(size_t elemsize, size_t cap) { USED(elemsize); USED(cap); runtime_notimplemented("gort_chan_make"); }
GORT_API void gort_chan_send(GortChan *c, const void *elem) { USED(c); USED(elem); runtime_notimplemented("gort_chan_send"); }
GORT_API bool gort_chan_recv(GortChan *c, void *elem) { USED(c); USED(elem); runtime_notimplemented("gort_chan_recv"); }
GORT_API void gort_chan_close(GortChan *c) { USED(c); runtime_notimplemented("gort_chan_close"); }
GORT_API bool gort_chan_trysend(GortChan *c, const void *elem) { USED(c); USED(elem); runtime_notimplemented("gort_chan_trysend"); }
GORT_API bool gort_chan_tryrecv(GortChan *c, void *elem, bool *closed) { USED(c); USED(elem); USED(closed); runtime_notimplemented("gort_chan_tryrecv"); }
GORT_API size_t gort_chan_len(GortChan *c) { USED(c); runtime_notimplemented("gort_chan_len"); }
GORT_API size_t gort_chan_cap(GortChan *c) { USED(c); runtime_notimplemented("gort_chan_cap"); }
