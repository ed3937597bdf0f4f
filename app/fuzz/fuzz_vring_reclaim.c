/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The Vireo Authors
 */

/*
 * libFuzzer target: the driver role's reclaim functions fed ring memory
 * a device wrote, whatever it wrote.
 *
 * One input is a configuration byte (layout, in-order, indirect, ring
 * size) and then a script of operations: the driver adds buffers of
 * every shape and publishes them, a well-behaved device takes and
 * completes some (so the script can reach any lap and phase), the
 * fuzzer overwrites ring memory (raw bytes anywhere, or a plausible used
 * entry where the driver will look next), and the driver reclaims, asks
 * for events, dumps, tears down. After every operation:
 *  - every cookie handed back was added and not handed back since, and
 *    its length is at most the writable length posted with it;
 *  - descriptors are conserved: free + held by outstanding buffers is
 *    the ring size, and buffers in flight + staged are the outstanding;
 *  - a failure is one of the documented codes, a device error breaks
 *    the vq and is counted, a broken vq refuses everything;
 *  - teardown hands back exactly the buffers still outstanding.
 * AddressSanitizer watches the ring, slot table and indirect tables,
 * each allocated to its exact size. Any violation aborts.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vring.h"
#include "vring_device.h"

#define FZ_MAX_SIZE	256		/* largest ring the script builds */
#define FZ_TOKENS	FZ_MAX_SIZE	/* at most one buffer per descriptor */
#define FZ_IND_MAX	4		/* entries of each indirect table */
#define FZ_MAX_SEGS	4		/* segments of one added buffer */
#define FZ_BURST	64		/* largest reclaim burst */
#define FZ_DIM(a)	(sizeof(a) / sizeof((a)[0]))

/* Sizes per layout: split needs powers of two, packed takes any. */
static const uint16_t fz_split_sizes[8] = { 1, 2, 4, 8, 16, 32, 64, 256 };
static const uint16_t fz_packed_sizes[8] = { 1, 2, 3, 5, 8, 17, 64, 256 };

/* What the harness knows of each buffer it added (the cookie). */
struct fz_token {
	bool out;		/* added and not handed back */
	bool staged;		/* added since the last publish */
	uint32_t writable;	/* writable bytes posted with it */
	uint16_t ndesc;		/* ring descriptors it holds */
};

/* A buffer the well-behaved device took and has not completed. */
struct fz_popped {
	uint16_t id;
	uint16_t ndesc;
	uint32_t written;	/* what it will report as written */
};

struct fz {
	const uint8_t *in;
	size_t len;
	size_t pos;
	struct vireo_vq vq;
	struct vireo_vq_dev dev;
	struct vireo_vq_areas areas;
	uint8_t *ring;
	struct vireo_vq_slot *slots;
	uint8_t *indirect;		/* size tables of FZ_IND_MAX entries */
	size_t indirect_len;
	uint32_t options;
	struct fz_token tok[FZ_TOKENS];
	unsigned int outstanding;	/* tokens out */
	unsigned int staged;		/* tokens out and staged */
	unsigned int out_desc;		/* descriptors they hold */
	struct fz_popped popped[FZ_MAX_SIZE];
	unsigned int npopped;
	bool told;			/* vireo_vq_break_news said it */
};

/* Every broken invariant ends here, loudly, so libFuzzer keeps the input. */
#define FZ_ASSERT(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: invariant failed: %s\n",	\
			__FILE__, __LINE__, #cond);			\
		abort();						\
	}								\
} while (0)

static uint8_t
fz_u8(struct fz *f)
{
	return f->pos < f->len ? f->in[f->pos++] : 0;
}

static uint16_t
fz_u16(struct fz *f)
{
	uint16_t lo = fz_u8(f);

	return lo | (uint16_t)fz_u8(f) << 8;
}

static uint32_t
fz_u32(struct fz *f)
{
	uint32_t lo = fz_u16(f);

	return lo | (uint32_t)fz_u16(f) << 16;
}

/*
 * The device role reads indirect tables through this: only the ring and
 * the tables are device memory, anything else is an address it may not
 * touch (as the fault backend's memory-table lookup would refuse it).
 */
static void *
fz_map(void *ctx, uint64_t addr, uint32_t len)
{
	struct fz *f = ctx;
	uint64_t base = (uintptr_t)f->indirect;

	if (f->indirect != NULL && addr >= base &&
	    addr - base <= f->indirect_len && len <= f->indirect_len - (addr - base))
		return (void *)(uintptr_t)addr;
	base = (uintptr_t)f->ring;
	if (addr >= base && addr - base <= f->areas.total &&
	    len <= f->areas.total - (addr - base))
		return (void *)(uintptr_t)addr;
	return NULL;
}

static int
fz_setup(struct fz *f, uint8_t config)
{
	enum vireo_vq_layout layout = config & 1 ? VIREO_VQ_PACKED :
		VIREO_VQ_SPLIT;
	uint16_t size = layout == VIREO_VQ_PACKED ?
		fz_packed_sizes[(config >> 3) & 7] :
		fz_split_sizes[(config >> 3) & 7];
	struct vireo_vq_config cfg = { 0 };
	uint16_t i;

	f->options = 0;
	if (config & 2)
		f->options |= VIREO_VQ_OPT_IN_ORDER;
	if (config & 4)
		f->options |= VIREO_VQ_OPT_INDIRECT;
	if (config & 0x40)
		f->options |= VIREO_VQ_OPT_EVENT_IDX;
	FZ_ASSERT(vireo_vq_areas(layout, size, &f->areas) == 0);
	/* Exact sizes: one byte past any of them is an ASan report. */
	f->ring = aligned_alloc(f->areas.align, f->areas.total);
	f->slots = malloc(vireo_vq_slots_size(size));
	FZ_ASSERT(f->ring != NULL && f->slots != NULL);
	cfg.layout = layout;
	cfg.size = size;
	cfg.options = f->options;
	cfg.ring = f->ring;
	cfg.ring_iova = (uintptr_t)f->ring;
	cfg.slots = f->slots;
	FZ_ASSERT(vireo_vq_init(&f->vq, &cfg) == 0);
	FZ_ASSERT(vireo_vq_dev_init(&f->dev, layout, size, f->options, f->ring,
				    fz_map, f) == 0);
	if (f->options & VIREO_VQ_OPT_INDIRECT) {
		f->indirect_len = (size_t)size * FZ_IND_MAX * 16;
		f->indirect = aligned_alloc(16, f->indirect_len);
		FZ_ASSERT(f->indirect != NULL);
		memset(f->indirect, 0, f->indirect_len);
		for (i = 0; i < size; i++) {
			uint8_t *t = f->indirect + (size_t)i * FZ_IND_MAX * 16;

			FZ_ASSERT(vireo_vq_set_indirect(&f->vq, i, t,
					(uintptr_t)t, FZ_IND_MAX) == 0);
		}
	}
	return 0;
}

/* The accounting the ring core must keep whatever the device wrote. */
static void
fz_check(const struct fz *f)
{
	FZ_ASSERT(f->vq.nfree <= f->vq.size);
	FZ_ASSERT(f->vq.nfree + f->out_desc == f->vq.size);
	FZ_ASSERT((unsigned int)f->vq.in_flight + f->vq.staged_bufs ==
		  f->outstanding);
	FZ_ASSERT(f->vq.last_used < f->vq.size ||
		  f->vq.layout == VIREO_VQ_SPLIT);
}

static struct fz_token *
fz_token_of(struct fz *f, void *cookie)
{
	uintptr_t p = (uintptr_t)cookie, base = (uintptr_t)f->tok;

	/* A cookie the harness never made is the worst finding of all. */
	FZ_ASSERT(p >= base && p < base + sizeof(f->tok) &&
		  (p - base) % sizeof(f->tok[0]) == 0);
	return cookie;
}

/* One cookie handed back by a reclaim or a teardown. */
static void
fz_returned(struct fz *f, void *cookie, uint32_t len, bool teardown)
{
	struct fz_token *t = fz_token_of(f, cookie);

	FZ_ASSERT(t->out);		/* never twice, never one not added */
	if (!teardown)
		FZ_ASSERT(len <= t->writable);
	t->out = false;
	if (t->staged) {
		/*
		 * A device may complete a buffer it could not see yet (a
		 * guessed split head): memory-safe, the buffer is ours
		 * again. Keep the counts right.
		 */
		t->staged = false;
		f->staged--;
	}
	f->outstanding--;
	f->out_desc -= t->ndesc;
}

static struct fz_token *
fz_token_free(struct fz *f)
{
	unsigned int i;

	for (i = 0; i < FZ_TOKENS; i++)
		if (!f->tok[i].out)
			return &f->tok[i];
	return NULL;
}

/* A result of a driver operation that is not a count. */
static void
fz_check_rc(const struct fz *f, int rc)
{
	if (rc >= 0)
		return;
	if (rc == VIREO_VQ_EBROKEN) {
		FZ_ASSERT(f->vq.broken);
		return;
	}
	/* device misbehaviour: the vq is broken and the error counted */
	FZ_ASSERT(rc <= VIREO_VQ_EBADID && rc >= VIREO_VQ_EORDER);
	FZ_ASSERT(f->vq.broken && f->vq.err_count[-rc] > 0);
}

static void
fz_op_publish(struct fz *f)
{
	unsigned int k;

	vireo_vq_publish(&f->vq);
	for (k = 0; k < FZ_TOKENS; k++)
		f->tok[k].staged = false;
	f->staged = 0;
}

static void
fz_op_add(struct fz *f)
{
	uint8_t ctl = fz_u8(f);
	unsigned int n = (ctl & 7) + 1, i, k;

	for (i = 0; i < n && f->pos < f->len; i++) {
		uint8_t shape = fz_u8(f);
		uint16_t nr = shape & 3, nw = (shape >> 2) & 3;
		bool ind = shape & 0x10;
		struct vireo_buf bufs[FZ_MAX_SEGS * 2];
		uint16_t nfree = f->vq.nfree;
		struct fz_token *t = fz_token_free(f);
		uint64_t writable = 0;
		int rc;

		if (nr + nw == 0)
			nw = 1;
		for (k = 0; k < nr + nw; k++) {
			/* mostly small, sometimes enough to overflow a sum */
			bufs[k].len = shape & 0x20 ? fz_u32(f) : fz_u8(f) * 8u;
			bufs[k].addr = 0x100000ull * (k + 1) + fz_u8(f);
			if (k >= nr)
				writable += bufs[k].len;
		}
		FZ_ASSERT(t != NULL || f->vq.nfree == 0 || f->vq.broken);
		if (t == NULL)
			return;
		if (ind)
			rc = vireo_vq_add_indirect(&f->vq, bufs, nr, nw, t);
		else if (nr + nw == 1 && (shape & 0x40))
			rc = nw ? vireo_vq_add_in1(&f->vq, bufs[0].addr,
						   bufs[0].len, t) :
				vireo_vq_add_out1(&f->vq, bufs[0].addr,
						  bufs[0].len, t);
		else
			rc = vireo_vq_add(&f->vq, bufs, nr, nw, t);
		if (rc != 0) {
			FZ_ASSERT(rc == VIREO_VQ_EFULL || rc == VIREO_VQ_EINVAL ||
				  rc == VIREO_VQ_EBROKEN ||
				  rc == VIREO_VQ_ENOINDIRECT);
			FZ_ASSERT(f->vq.nfree == nfree);
			continue;
		}
		FZ_ASSERT(!f->vq.broken);
		FZ_ASSERT(writable <= UINT32_MAX);
		t->out = true;
		t->staged = true;
		t->writable = (uint32_t)writable;
		t->ndesc = nfree - f->vq.nfree;
		FZ_ASSERT(t->ndesc == (ind ? 1 : nr + nw));
		f->outstanding++;
		f->staged++;
		f->out_desc += t->ndesc;
	}
	if (ctl & 8)
		fz_op_publish(f);
}

/* The PMD's Rx refill and Tx push: one-descriptor buffers at once. */
static void
fz_op_add1_burst(struct fz *f)
{
	uint8_t ctl = fz_u8(f);
	uint16_t want = ctl % 33, flags = ctl & 0x40 ? VIRTQ_DESC_F_WRITE : 0;
	struct vireo_buf bufs[32];
	void *cookies[32];
	uint16_t n = 0, i, got, nfree = f->vq.nfree;
	unsigned int k;

	/* distinct free tokens, at most one per free descriptor */
	for (k = 0; k < FZ_TOKENS && n < want && n < nfree; k++) {
		if (f->tok[k].out)
			continue;
		bufs[n].addr = 0x200000ull + n;
		bufs[n].len = fz_u8(f) * 4u;
		cookies[n++] = &f->tok[k];
	}
	/* sometimes a NULL cookie: the burst must stop there */
	if (n > 0 && (ctl & 0x80))
		cookies[fz_u8(f) % n] = NULL;
	got = vireo_vq_add1_burst(&f->vq, bufs, cookies, n, flags);
	FZ_ASSERT(got <= n && nfree - f->vq.nfree == got);
	FZ_ASSERT(!f->vq.broken || got == 0);
	for (i = 0; i < got; i++) {
		struct fz_token *t = cookies[i];

		FZ_ASSERT(t != NULL);
		t->out = true;
		t->staged = true;
		t->writable = flags ? bufs[i].len : 0;
		t->ndesc = 1;
		f->outstanding++;
		f->staged++;
		f->out_desc++;
	}
	if (got < n && !f->vq.broken)
		FZ_ASSERT(cookies[got] == NULL);
}

/* Raw bytes anywhere in the ring: a device can write all of it. */
static void
fz_op_scribble(struct fz *f)
{
	size_t off = fz_u16(f) % f->areas.total;
	size_t n = (fz_u8(f) & 31) + 1, i;

	for (i = 0; i < n && off + i < f->areas.total; i++)
		f->ring[off + i] = fz_u8(f);
}

/* A plausible used entry where the driver looks next (or near it). */
static void
fz_op_used(struct fz *f)
{
	uint8_t ctl = fz_u8(f);
	uint16_t size = f->vq.size;
	uint32_t id, len;

	/* ids mostly in range, so the deeper checks are reached */
	id = ctl & 0x80 ? fz_u16(f) : fz_u8(f) % size;
	len = ctl & 0x40 ? fz_u32(f) : fz_u8(f);
	if (f->vq.layout == VIREO_VQ_SPLIT) {
		struct vireo_split_used *u = f->vq.split.ring.used;
		uint16_t at = f->vq.last_used + (ctl & 3);
		int8_t step = (int8_t)fz_u8(f);

		VIREO_WRITE_ONCE(u->ring[at & (size - 1)].id, id);
		VIREO_WRITE_ONCE(u->ring[at & (size - 1)].len, len);
		if (ctl & 4)
			__atomic_store_n(&u->idx, (uint16_t)(f->vq.last_used + step),
					 __ATOMIC_RELEASE);
	} else {
		uint16_t at = (f->vq.last_used + (ctl & 3)) % size;
		struct vireo_packed_desc *d = &f->vq.packed.ring.desc[at];
		uint16_t flags;

		/* the used bits of this phase, or any word at all */
		if (ctl & 4)
			flags = fz_u16(f);
		else
			flags = f->vq.used_wrap_counter ?
				VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED : 0;
		VIREO_WRITE_ONCE(d->id, (uint16_t)id);
		VIREO_WRITE_ONCE(d->len, len);
		__atomic_store_n(&d->flags, flags, __ATOMIC_RELEASE);
	}
}

/* The well-behaved device: take some chains, complete them. */
static void
fz_op_device(struct fz *f)
{
	uint8_t ctl = fz_u8(f);
	unsigned int want = (ctl & 7) + 1, i;
	struct vireo_seg segs[FZ_MAX_SIZE + FZ_IND_MAX];
	struct vireo_vq_dev_chain c;
	uint32_t total_desc = 0;
	int rc;

	while (want-- > 0 && f->npopped < FZ_MAX_SIZE) {
		uint64_t written = 0;

		rc = vireo_vq_dev_pop(&f->dev, &c, segs, FZ_DIM(segs));
		if (rc != 1)
			break;	/* nothing, or a chain it refuses */
		FZ_ASSERT(c.nsegs <= FZ_DIM(segs));
		FZ_ASSERT(c.ndesc >= 1 && c.ndesc <= f->vq.size);
		for (i = 0; i < c.nsegs; i++)
			if (segs[i].write)
				written += segs[i].len;
		f->popped[f->npopped].id = c.id;
		f->popped[f->npopped].ndesc = c.ndesc;
		f->popped[f->npopped].written = written > UINT32_MAX ?
			UINT32_MAX : (uint32_t)written;
		f->npopped++;
	}
	if (f->npopped == 0)
		return;
	if ((ctl & 0x10) && (f->options & VIREO_VQ_OPT_IN_ORDER)) {
		/* one entry for the whole batch, the last id */
		for (i = 0; i < f->npopped; i++)
			total_desc += f->popped[i].ndesc;
		if (total_desc <= f->vq.size)
			vireo_vq_dev_push_batch(&f->dev,
				f->popped[f->npopped - 1].id,
				f->popped[f->npopped - 1].written,
				(uint16_t)total_desc, (uint16_t)f->npopped);
	} else if ((ctl & 0x20) && !(f->options & VIREO_VQ_OPT_IN_ORDER)) {
		/* out of order is legal without IN_ORDER */
		for (i = f->npopped; i-- > 0;)
			vireo_vq_dev_push(&f->dev, f->popped[i].id,
					  f->popped[i].written,
					  f->popped[i].ndesc);
	} else {
		for (i = 0; i < f->npopped; i++)
			vireo_vq_dev_push(&f->dev, f->popped[i].id,
					  f->popped[i].written,
					  f->popped[i].ndesc);
	}
	f->npopped = 0;
	vireo_vq_dev_publish(&f->dev);
	(void)vireo_vq_dev_should_interrupt(&f->dev);
	if (ctl & 0x40)
		(void)vireo_vq_dev_set_notify(&f->dev, ctl & 0x80);
}

static void
fz_op_reclaim(struct fz *f, bool burst)
{
	void *cookies[FZ_BURST];
	uint32_t lens[FZ_BURST];
	uint16_t n = burst ? fz_u8(f) % (FZ_BURST + 1) : 1;
	bool was_broken = f->vq.broken;
	int rc, i;

	memset(cookies, 0, sizeof(cookies));
	rc = burst ? vireo_vq_get_used_burst(&f->vq, cookies, lens, n) :
		vireo_vq_get_used(&f->vq, &cookies[0], &lens[0]);
	FZ_ASSERT(rc <= (int)n);
	fz_check_rc(f, rc);
	/* a broken vq refuses (a burst of none asks for nothing) */
	if (was_broken && n > 0)
		FZ_ASSERT(rc == VIREO_VQ_EBROKEN);
	for (i = 0; i < rc; i++)
		fz_returned(f, cookies[i], lens[i], false);
	/* a break is told once, with the code that broke the vq */
	if (f->vq.broken) {
		rc = vireo_vq_break_news(&f->vq);
		FZ_ASSERT(f->told ? rc == 0 : rc == f->vq.broken_reason);
		FZ_ASSERT(vireo_vq_break_news(&f->vq) == 0);
		f->told = true;
	}
}

/* Teardown: every outstanding buffer comes back, exactly once. */
static void
fz_op_teardown(struct fz *f)
{
	unsigned int guard = 0;
	void *cookie;

	while ((cookie = vireo_vq_detach_unused(&f->vq)) != NULL) {
		FZ_ASSERT(++guard <= f->vq.size);
		fz_returned(f, cookie, 0, true);
	}
	FZ_ASSERT(f->outstanding == 0 && f->out_desc == 0);
	FZ_ASSERT(!f->vq.broken && f->vq.nfree == f->vq.size);
	FZ_ASSERT(vireo_vq_break_news(&f->vq) == 0);
	f->told = false;
	f->npopped = 0;
	FZ_ASSERT(vireo_vq_dev_init(&f->dev, f->vq.layout, f->vq.size,
				    f->options, f->ring, fz_map, f) == 0);
	/* restore at a chosen base, as after a reconnect */
	if (fz_u8(f) & 1) {
		uint32_t base = fz_u32(f);

		if (vireo_vq_set_base(&f->vq, base) == 0)
			FZ_ASSERT(vireo_vq_dev_set_base(&f->dev,
					vireo_vq_get_base(&f->vq)) == 0);
	}
}

static void
fz_op_events(struct fz *f)
{
	uint8_t ctl = fz_u8(f);
	int rc;

	switch (ctl & 3) {
	case 0:
		rc = vireo_vq_kick_prepare(&f->vq);
		FZ_ASSERT(rc == 0 || rc == 1 || rc == VIREO_VQ_EBROKEN);
		break;
	case 1:
		rc = vireo_vq_enable_cb(&f->vq);
		FZ_ASSERT(rc == 0 || rc == 1 || rc == VIREO_VQ_EBROKEN);
		break;
	case 2:
		rc = vireo_vq_disable_cb(&f->vq);
		FZ_ASSERT(rc == 0 || rc == VIREO_VQ_EBROKEN);
		break;
	default:
		(void)vireo_vq_used_pending(&f->vq);
		break;
	}
}

static void
fz_op_dump(struct fz *f)
{
	char buf[512];
	size_t cap = (fz_u8(f) % sizeof(buf)) + 1;
	int n;

	memset(buf, 0x5a, sizeof(buf));
	n = vireo_vq_dump(&f->vq, buf, cap);
	FZ_ASSERT(n >= 0);
	/* always terminated within what it was given */
	FZ_ASSERT(memchr(buf, '\0', cap) != NULL);
	FZ_ASSERT(cap == sizeof(buf) || (uint8_t)buf[cap] == 0x5a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fz f;
	unsigned int ops = 0;

	if (size < 1)
		return 0;
	memset(&f, 0, sizeof(f));
	f.in = data;
	f.len = size;
	f.pos = 1;
	fz_setup(&f, data[0]);
	/* a bound on the script, so a long input stays a fast input */
	while (f.pos < f.len && ops++ < 4096) {
		switch (fz_u8(&f) % 13) {
		case 0:
		case 1:
			fz_op_add(&f);
			break;
		case 12:
			fz_op_add1_burst(&f);
			break;
		case 2:
			fz_op_publish(&f);
			break;
		case 3:
			fz_op_scribble(&f);
			break;
		case 4:
		case 5:
			fz_op_used(&f);
			break;
		case 6:
			fz_op_device(&f);
			break;
		case 7:
			fz_op_reclaim(&f, true);
			break;
		case 8:
			fz_op_reclaim(&f, false);
			break;
		case 9:
			fz_op_events(&f);
			break;
		case 10:
			fz_op_dump(&f);
			break;
		default:
			fz_op_teardown(&f);
			break;
		}
		fz_check(&f);
	}
	/* The end of every input is a teardown: nothing may be lost. */
	fz_op_teardown(&f);
	free(f.ring);
	free(f.slots);
	free(f.indirect);
	return 0;
}
