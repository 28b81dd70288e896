// Copyright 2026 The gort Authors. BSD-style license (see LICENSE).

// Global roots for the collector (Go's RootData and RootBss, and more).
//
// Go's linker tells the collector where data and bss are and which words
// in them hold pointers. A C program has no such map, so gort scans them
// conservatively: the writable PT_LOAD segments of every object loaded in
// the process (the program, its shared libraries), found with
// dl_iterate_phdr when the collection starts. gort's own globals are left
// out: when gort is a shared library, its whole object; when it is linked
// statically, the runtime's big structures sit in the section
// "gort_noscan" (GORT_NOSCAN below), which is cut out of the range.
// Nothing else of the process is scanned: not libc malloc's heap, not
// thread-local storage, not the stacks of threads gort did not create.
// Programs that keep heap pointers there register the memory with
// gort_add_roots(lo, hi), as with Boehm GC's GC_add_roots.
//
// The registered ranges are kept in memory outside the GC heap,
// protected by rootslock; the collector reads them with the world
// stopped.
//
// The segments are listed before the world stops (runtime_snapshotroots,
// called by runtime_gc holding worldsema), not in the pause: dladdr and
// dl_iterate_phdr take the dynamic loader's lock, and a goroutine stopped
// while it holds that lock (inside dlopen, dladdr, backtrace, a C++
// unwinder...) would leave the collector waiting for it forever.

#include <dlfcn.h>
#include <link.h>
#include <sys/mman.h>

#include "gort.h"
#include "mgc0.h"

typedef struct Root Root;
struct Root
{
	byte*	lo;
	byte*	hi;
};

static Lock	rootslock = LOCK_INIT(LockRankRoots);
static Root*	roots;		// rootslock
static uint32	nroots;		// rootslock
static uintptr	rootscap;	// rootslock

// The bounds of gort's own no-scan section (static linking); the linker
// defines these for a section whose name is a C identifier.
extern byte __start_gort_noscan[] __attribute__((weak));
extern byte __stop_gort_noscan[] __attribute__((weak));

GORT_API void
gort_add_roots(void *lo, void *hi)
{
	if(lo == nil || hi == nil || (byte*)hi < (byte*)lo) {
		runtime_printf("runtime: gort_add_roots(%p, %p): bad range\n", lo, hi);
		runtime_throw("gort_add_roots: bad range");
	}
	if(lo == hi)
		return;
	runtime_lock(&rootslock);
	if(nroots == rootscap)
		roots = runtime_SysGrow(roots, nroots, &rootscap, sizeof roots[0], false, &mstats.gc_sys);
	roots[nroots].lo = lo;
	roots[nroots].hi = hi;
	nroots++;
	runtime_unlock(&rootslock);
}

// Remove a range added before with exactly these bounds.
GORT_API void
gort_remove_roots(void *lo, void *hi)
{
	uint32 i;

	runtime_lock(&rootslock);
	for(i = 0; i < nroots; i++) {
		if(roots[i].lo == (byte*)lo && roots[i].hi == (byte*)hi) {
			roots[i] = roots[--nroots];
			runtime_unlock(&rootslock);
			return;
		}
	}
	runtime_unlock(&rootslock);
	runtime_printf("runtime: gort_remove_roots(%p, %p): not a registered range\n", lo, hi);
	runtime_throw("gort_remove_roots: range not registered");
}

// The segments listed by the last runtime_snapshotroots. worldsema.
static Root*	segs;
static uint32	nsegs;
static uintptr	segscap;

typedef struct Walk Walk;
struct Walk
{
	void	(*fn)(byte *p, uintptr n, void *arg);
	void*	arg;
	uintptr	self;		// load address of the object gort's code is in
};

// fn for [lo, hi) minus gort's no-scan section.
static void
emit(Walk *w, byte *lo, byte *hi)
{
	byte *nlo, *nhi;

	nlo = __start_gort_noscan;
	nhi = __stop_gort_noscan;
	if(nlo != nil && nhi != nil && nlo < hi && nhi > lo) {
		if(lo < nlo)
			w->fn(lo, nlo - lo, w->arg);
		if(nhi < hi)
			w->fn(nhi, hi - nhi, w->arg);
		return;
	}
	if(lo < hi)
		w->fn(lo, hi - lo, w->arg);
}

static int
phdrcb(struct dl_phdr_info *info, size_t size, void *arg)
{
	Walk *w;
	const ElfW(Phdr) *ph;
	byte *lo, *hi;
	int i;

	USED(size);
	w = arg;
	// gort as a shared library: skip all of it. (Linked into the program,
	// its globals are cut out by emit instead.)
	if(info->dlpi_name != nil && info->dlpi_name[0] != '\0' && info->dlpi_addr == w->self)
		return 0;
	for(i = 0; i < info->dlpi_phnum; i++) {
		ph = &info->dlpi_phdr[i];
		if(ph->p_type != PT_LOAD || !(ph->p_flags & PF_W))
			continue;
		lo = (byte*)(info->dlpi_addr + ph->p_vaddr);
		hi = lo + ph->p_memsz;
		lo = (byte*)ROUND((uintptr)lo, PtrSize);
		hi = (byte*)((uintptr)hi & ~(uintptr)(PtrSize-1));
		emit(w, lo, hi);
	}
	return 0;
}

// Record a segment range in the snapshot.
static void
addseg(byte *p, uintptr n, void *arg)
{
	USED(arg);
	if(nsegs == segscap)
		segs = runtime_SysGrow(segs, nsegs, &segscap, sizeof segs[0], false, &mstats.gc_sys);
	segs[nsegs].lo = p;
	segs[nsegs].hi = p + n;
	nsegs++;
}

static uintptr	selfbase = ~(uintptr)0;	// load address of gort's object, found at boot
					// (runtime_rootsinit); immutable after

// At boot, before any goroutine exists: where gort's own code is loaded.
void
runtime_rootsinit(void)
{
	Dl_info info;

	if(dladdr((void*)runtime_rootsinit, &info) != 0)
		selfbase = (uintptr)info.dli_fbase;
}

// List the data and bss of the loaded objects (gort's excepted), for the
// next runtime_forallroots. Called with worldsema held, the world running.
// dl_iterate_phdr takes the dynamic loader's lock, which a goroutine
// preempted inside dlopen may hold: call it as a blocking system call,
// with the P handed off, so that the holder can run (and so that this
// goroutine is not stopped while it holds the lock).
void
runtime_snapshotroots(void)
{
	Walk w;

	w.fn = addseg;
	w.arg = nil;
	w.self = selfbase;
	nsegs = 0;
	runtime_entersyscallblock();
	dl_iterate_phdr(phdrcb, &w);
	runtime_exitsyscall();
}

// Is all of [p, p+n) mapped? (A library dlclose'd since the snapshot is
// not: skip it.) mincore fails with ENOMEM on an unmapped page.
static bool
mapped(byte *p, uintptr n)
{
	static byte vec[4096];	// one byte a page: 16 MB a call. World stopped: one GC
				// thread at a time (markroot's RootData, gccheckmark)
	uintptr lo, hi, k;

	lo = (uintptr)p & ~(uintptr)4095;
	hi = ROUND((uintptr)p + n, 4096);
	for(; lo < hi; lo += k) {
		k = hi - lo;
		if(k > sizeof vec * 4096)
			k = sizeof vec * 4096;
		if(mincore((void*)lo, k, vec) != 0)
			return false;
	}
	return true;
}

// Call fn for every global root range: the data and bss of the loaded
// objects as of the last runtime_snapshotroots (kind 0), and the
// registered ranges (kind 1). World stopped.
void
runtime_forallrootskind(void (*fn)(byte *p, uintptr n, int kind, void *arg), void *arg)
{
	uint32 i;
	byte *lo, *hi;

	for(i = 0; i < nsegs; i++)
		if(mapped(segs[i].lo, segs[i].hi - segs[i].lo))
			fn(segs[i].lo, segs[i].hi - segs[i].lo, 0, arg);
	runtime_lock(&rootslock);
	for(i = 0; i < nroots; i++) {
		// Only whole aligned words can hold pointers the collector
		// reads: round lo up and hi down (as the segments are, and as
		// Boehm GC does). A scan from an odd lo would read every word
		// misaligned and miss them all.
		lo = (byte*)ROUND((uintptr)roots[i].lo, PtrSize);
		hi = (byte*)((uintptr)roots[i].hi & ~(uintptr)(PtrSize-1));
		if(lo < hi)
			fn(lo, hi - lo, 1, arg);
	}
	runtime_unlock(&rootslock);
}

typedef struct RootFn RootFn;
struct RootFn
{
	void	(*fn)(byte*, uintptr, void*);
	void*	arg;
};

static void
rootfn(byte *p, uintptr n, int kind, void *arg)
{
	RootFn *f;

	USED(kind);
	f = arg;
	f->fn(p, n, f->arg);
}

// Call fn for every global root range, of either kind. World stopped.
void
runtime_forallroots(void (*fn)(byte *p, uintptr n, void *arg), void *arg)
{
	RootFn f;

	f.fn = fn;
	f.arg = arg;
	runtime_forallrootskind(rootfn, &f);
}
