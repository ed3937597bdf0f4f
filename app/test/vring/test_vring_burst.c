/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The Vireo Authors
 */

/*
 * The burst functions (vireo_vq_add1_burst, vireo_vq_get_used_burst and
 * their _layout forms) against the single-buffer ones they must equal:
 *  1. every lie of test_vring_validation.c, and a few more, replayed once
 *     through vireo_vq_get_used and once through the burst with several
 *     n: same buffers back, same error, same broken state and counters,
 *     ring memory untouched and the slot table as the reference left it;
 *  2. a twin roundtrip: two vqs fed the same random sequence, one with
 *     the burst functions, one with the single-buffer ones, and one
 *     device acting on both; their state is compared after every step;
 *  3. add1_burst on its own: free count, withheld first head, broken vq.
 * Seeds are fixed and printed with a failure.
 */

#include <stddef.h>

#include "vring_test.h"

#define USED_BITS	(VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED)

/* Cookies and buffers of the scripted cases; shared by the reference
 * and burst runs so their slot tables hold the same pointers. */
static uint8_t pool[16][64] __attribute__((aligned(16)));

/* Driver state both APIs must agree on (vq memory itself differs in
 * its ring pointers, so compare field by field). */
static int
same_state(const struct vireo_vq *a, const struct vireo_vq *b)
{
	CHECK_EQ(a->nfree, b->nfree);
	CHECK_EQ(a->free_cursor, b->free_cursor);
	if (!(a->options & VIREO_VQ_OPT_IN_ORDER))
		CHECK(memcmp(a->free_ids, b->free_ids,
			     a->free_cursor * sizeof(uint16_t)) == 0);
	CHECK_EQ(a->last_used, b->last_used);
	CHECK_EQ(a->used_wrap_counter, b->used_wrap_counter);
	CHECK_EQ(a->in_flight, b->in_flight);
	CHECK_EQ(a->staged_bufs, b->staged_bufs);
	CHECK_EQ(a->staged_descs, b->staged_descs);
	CHECK_EQ(a->added_since_kick, b->added_since_kick);
	CHECK_EQ(a->inorder_next, b->inorder_next);
	CHECK_EQ(a->batch_pending, b->batch_pending);
	CHECK_EQ(a->broken, b->broken);
	CHECK_EQ(a->broken_reason, b->broken_reason);
	CHECK(memcmp(a->err_count, b->err_count, sizeof(a->err_count)) == 0);
	CHECK_EQ(vireo_vq_next_avail(a), vireo_vq_next_avail(b));
	CHECK_EQ(vireo_vq_avail_wrap_counter(a), vireo_vq_avail_wrap_counter(b));
	CHECK_EQ(vireo_vq_get_base(a), vireo_vq_get_base(b));
	if (a->layout == VIREO_VQ_SPLIT) {
		CHECK_EQ(a->split.used_idx_seen, b->split.used_idx_seen);
	} else {
		CHECK_EQ(a->packed.avail_used_flags, b->packed.avail_used_flags);
		CHECK_EQ(a->packed.stage.pending, b->packed.stage.pending);
		if (a->packed.stage.pending) {
			CHECK_EQ(a->packed.stage.pos, b->packed.stage.pos);
			CHECK_EQ(a->packed.stage.flags, b->packed.stage.flags);
		}
	}
	return 0;
}

/* ==== 1. validation: a lying device, seen through the burst ==== */

enum lie {
	LIE_ID_RANGE,		/* id >= size */
	LIE_ID_FREE,		/* id in range, never posted */
	LIE_LEN,		/* len > posted writable length */
	LIE_FLAGS_USED_ONLY,	/* packed: USED without AVAIL in phase 1 */
	LIE_FLAGS_OLD_PHASE,	/* packed: used bits of the wrong phase */
	LIE_IDX_FAR,		/* split: used->idx past what is in flight */
	LIE_IDX_BACK,		/* split: used->idx behind what we consumed */
	LIE_IDX_BEHIND,		/* split: used->idx behind what we saw */
	LIE_ORDER,		/* in-order: batch id beyond what is published */
	LIE_TX_LEN,		/* not a lie: len on a read-only buffer */
	LIE_BEYOND,		/* an entry for a buffer never published */
	LIE_COUNT
};

static const struct {
	const char *name;
	int code;		/* 0: no error, the vq stays healthy */
	int layouts;		/* bit 0 split, bit 1 packed */
	int modes;		/* bit 0 in-order off, bit 1 in-order on */
} lies[LIE_COUNT] = {
	[LIE_ID_RANGE] = { "id out of range", VIREO_VQ_EBADID, 3, 3 },
	[LIE_ID_FREE] = { "id not posted", VIREO_VQ_ENOTPOSTED, 3, 3 },
	[LIE_LEN] = { "len beyond posted", VIREO_VQ_EBADLEN, 3, 3 },
	[LIE_FLAGS_USED_ONLY] = { "flags USED without AVAIL",
				  VIREO_VQ_EBADFLAGS, 2, 3 },
	[LIE_FLAGS_OLD_PHASE] = { "flags of the old phase",
				  VIREO_VQ_EBADFLAGS, 2, 3 },
	[LIE_IDX_FAR] = { "used idx too far", VIREO_VQ_EBADIDX, 1, 3 },
	[LIE_IDX_BACK] = { "used idx backwards", VIREO_VQ_EBADIDX, 1, 3 },
	[LIE_IDX_BEHIND] = { "used idx behind what was seen",
			     VIREO_VQ_EBADIDX, 1, 3 },
	[LIE_ORDER] = { "in-order id out of sequence", VIREO_VQ_EORDER, 3, 2 },
	[LIE_TX_LEN] = { "len on a read-only buffer is dropped", 0, 3, 3 },
	[LIE_BEYOND] = { "entry for an unpublished buffer is not read",
			 0, 3, 3 },
};

/* What one run of a script saw, to compare the two APIs. */
struct outcome {
	void *cookies[16];
	uint32_t lens[16];
	unsigned int got;	/* buffers returned before the end */
	int end;		/* the first call that returned <= 0 */
	bool broken_before_end;	/* the vq was broken before that call */
	struct test_pair p;	/* kept open for the comparison */
	uint8_t *slots_before;	/* slot table when the lie was written */
	uint8_t *ring_before;	/* ring memory then */
};

/*
 * The script: 'good' buffers (the second one a two-descriptor chain, to
 * make packed skip and split relink a chain), then the target of the
 * lie; the device completes the good ones properly; with 'pre' the
 * driver takes the first one already (so split caches used->idx ahead
 * of what it consumed); then the device writes the lie. Finally the
 * driver drains with get_used (burst_n 0) or get_used_burst(burst_n).
 */
static int
script(struct outcome *o, enum vireo_vq_layout layout, uint32_t options,
       enum lie lie, unsigned int good, bool pre, uint16_t burst_n)
{
	const uint16_t size = 8;
	struct vireo_buf chain[2];
	struct vireo_vq_dev_chain c;
	struct vireo_seg segs[4];
	struct test_pair *p = &o->p;
	uint16_t target, staged_id = 0, pos, flags, n;
	uint32_t id, len = 10;
	size_t slots_size = vireo_vq_slots_size(size);
	unsigned int i, popped;
	int rc;

	memset(o, 0, sizeof(*o));
	if (test_pair_open(p, layout, size, options) != 0)
		return -1;
	o->slots_before = malloc(slots_size);
	o->ring_before = malloc(p->areas.total);
	CHECK(o->slots_before != NULL && o->ring_before != NULL);
	for (i = 0; i < good; i++) {
		if (i == 1) {
			chain[0] = (struct vireo_buf){ (uintptr_t)pool[i], 16 };
			chain[1] = (struct vireo_buf){ (uintptr_t)pool[i] + 16, 48 };
			CHECK_EQ(vireo_vq_add(&p->vq, chain, 1, 1, pool[i]), 0);
		} else {
			CHECK_EQ(vireo_vq_add_in1(&p->vq, (uintptr_t)pool[i], 64,
						  pool[i]), 0);
		}
	}
	/* the target: unpublished for LIE_BEYOND, read-only for TX_LEN */
	if (lie == LIE_BEYOND)
		vireo_vq_publish(&p->vq);
	target = vireo_vq_next_id(&p->vq);
	if (lie == LIE_TX_LEN)
		CHECK_EQ(vireo_vq_add_out1(&p->vq, (uintptr_t)pool[good], 16,
					   pool[good]), 0);
	else
		CHECK_EQ(vireo_vq_add_in1(&p->vq, (uintptr_t)pool[good], 64,
					  pool[good]), 0);
	if (lie != LIE_BEYOND)
		vireo_vq_publish(&p->vq);
	if (lie == LIE_ORDER) {
		/* one more, staged only: a batch may not reach it */
		staged_id = vireo_vq_next_id(&p->vq);
		CHECK_EQ(vireo_vq_add_in1(&p->vq, (uintptr_t)pool[good + 1],
					  64, pool[good + 1]), 0);
	}
	/* the device takes what was published, completes the good ones */
	for (popped = 0; vireo_vq_dev_pop(&p->dev, &c, segs, 4) == 1; popped++) {
		if (popped < good)
			CHECK_EQ(vireo_vq_dev_push(&p->dev, c.id, len, c.ndesc), 0);
		else
			CHECK_EQ(c.id, target);
	}
	CHECK_EQ(popped, lie == LIE_BEYOND ? good : good + 1);
	vireo_vq_dev_publish(&p->dev);
	if (pre) {
		void *ck;
		uint32_t l;

		CHECK_EQ(vireo_vq_get_used(&p->vq, &ck, &l), 1);
		CHECK(ck == pool[0]);
	}
	/* the lie, where the driver looks next */
	pos = p->dev.used_idx;
	id = target;
	flags = p->dev.used_wrap_counter ? USED_BITS : 0;
	n = (uint16_t)(pos + 1);
	switch (lie) {
	case LIE_ID_RANGE:
		id = layout == VIREO_VQ_SPLIT ? 0x10000 : size;
		break;
	case LIE_ID_FREE:
		id = size - 1;
		CHECK(p->vq.slot[id].cookie == NULL);
		break;
	case LIE_LEN:
		len = 65;
		break;
	case LIE_FLAGS_USED_ONLY:
		flags = VIRTQ_DESC_F_USED;
		break;
	case LIE_FLAGS_OLD_PHASE:
		flags = p->dev.used_wrap_counter ? 0 : USED_BITS;
		break;
	case LIE_IDX_FAR:
		n = (uint16_t)(pos + 2);
		break;
	case LIE_IDX_BACK:
		n = (uint16_t)(p->vq.last_used - 1);
		break;
	case LIE_IDX_BEHIND:
		n = (uint16_t)(pos - 1);
		break;
	case LIE_ORDER:
		id = staged_id;
		break;
	case LIE_TX_LEN:
		len = 16;
		break;
	case LIE_BEYOND:
		n = pos;	/* split: written, never counted */
		break;
	default:
		return -1;
	}
	if (layout == VIREO_VQ_SPLIT) {
		p->vq.split.ring.used->ring[pos & (size - 1)].id = id;
		p->vq.split.ring.used->ring[pos & (size - 1)].len = len;
		p->vq.split.ring.used->idx = n;
	} else {
		p->vq.packed.ring.desc[pos].id = (uint16_t)id;
		p->vq.packed.ring.desc[pos].len = len;
		p->vq.packed.ring.desc[pos].flags = flags;
	}
	memcpy(o->slots_before, p->slots, slots_size);
	memcpy(o->ring_before, p->ring, p->areas.total);
	/* drain: bounded, a correct vq ends within a few calls */
	for (i = 0; i < 16; i++) {
		bool was_broken = p->vq.broken;

		if (burst_n == 0)
			rc = vireo_vq_get_used(&p->vq, &o->cookies[o->got],
					       &o->lens[o->got]);
		else if (i & 1)
			rc = vireo_vq_get_used_burst_layout(&p->vq,
				&o->cookies[o->got], &o->lens[o->got], burst_n,
				layout);
		else
			rc = vireo_vq_get_used_burst(&p->vq, &o->cookies[o->got],
						     &o->lens[o->got], burst_n);
		CHECK(rc <= (burst_n == 0 ? 1 : burst_n));
		if (rc <= 0) {
			o->end = rc;
			o->broken_before_end = was_broken;
			return 0;
		}
		o->got += rc;
		CHECK(o->got <= good + 1u);
	}
	return -1;
}

static void
outcome_fini(struct outcome *o)
{
	test_pair_fini(&o->p);
	free(o->slots_before);
	free(o->ring_before);
	o->slots_before = NULL;
	o->ring_before = NULL;
}

/* Checks one run against what the lie must produce. */
static int
check_outcome(const struct outcome *o, enum lie lie, unsigned int good,
	      bool pre, bool burst)
{
	const struct vireo_vq *vq = &o->p.vq;
	const struct vireo_vq_slot *before =
		(const struct vireo_vq_slot *)o->slots_before;
	int code = lies[lie].code;
	unsigned int i, k, expect = good - pre + (lie == LIE_TX_LEN);
	bool returned;

	/* a bad used->idx hides every entry the driver had not acquired
	 * before it: only those a 'pre' load saw can come back */
	if (lie == LIE_IDX_FAR || lie == LIE_IDX_BACK || lie == LIE_IDX_BEHIND)
		expect = pre ? good - 1 : 0;
	CHECK_EQ(o->got, expect);
	for (i = 0; i < o->got; i++) {
		CHECK(o->cookies[i] == pool[pre + i]);
		CHECK_EQ(o->lens[i], lie == LIE_TX_LEN && pre + i == good ? 0 : 10);
	}
	/* the error itself, or EBROKEN when an in-order burst broke the
	 * vq in the call that returned the buffers before it */
	if (o->broken_before_end) {
		CHECK(burst && (vq->options & VIREO_VQ_OPT_IN_ORDER));
		CHECK_EQ(o->end, VIREO_VQ_EBROKEN);
	} else {
		CHECK_EQ(o->end, code);
	}
	CHECK_EQ(vq->broken, code != 0);
	CHECK_EQ(vq->broken_reason, code);
	for (i = 0; i < VIREO_VQ_ERR_SLOTS; i++)
		CHECK_EQ(vq->err_count[i], code != 0 && i == (unsigned int)-code);
	/* reclaims never write the ring */
	CHECK(memcmp(o->ring_before, o->p.ring, o->p.areas.total) == 0);
	/* the indirect part after the slots is never touched */
	CHECK(memcmp(o->slots_before + vq->size * sizeof(struct vireo_vq_slot),
		     (const uint8_t *)o->p.slots + vq->size *
		     sizeof(struct vireo_vq_slot),
		     vq->size * sizeof(struct vireo_vq_indirect)) == 0);
	/* a slot still outstanding is untouched; a reclaim changes only
	 * the cookie of what it returns */
	for (i = 0; i < vq->size; i++) {
		CHECK_EQ(vq->slot[i].buflen, before[i].buflen);
		CHECK_EQ(vq->slot[i].ndesc, before[i].ndesc);
		if (before[i].cookie == NULL) {
			CHECK(vq->slot[i].cookie == NULL);
			continue;
		}
		for (k = 0, returned = false; k < o->got; k++)
			returned |= o->cookies[k] == before[i].cookie;
		if (returned)
			CHECK(vq->slot[i].cookie == NULL);
		else
			CHECK(memcmp(&vq->slot[i], &before[i],
				     sizeof(before[i])) == 0);
	}
	return 0;
}

/* A burst run against the reference run of the same script. */
static int
compare_runs(struct outcome *ref, struct outcome *bur, enum lie lie)
{
	int code = lies[lie].code;
	void *cookie;
	uint32_t len;

	if (same_state(&ref->p.vq, &bur->p.vq) != 0)
		return -1;
	/* same slot table, byte for byte, as the reference left */
	CHECK(memcmp(ref->p.slots, bur->p.slots,
		     vireo_vq_slots_size(ref->p.vq.size)) == 0);
	/* nothing more, and nothing counted twice */
	CHECK_EQ(vireo_vq_get_used_burst(&bur->p.vq, &cookie, &len, 4),
		 code != 0 ? VIREO_VQ_EBROKEN : 0);
	if (code != 0)
		CHECK_EQ(bur->p.vq.err_count[-code], 1);
	return 0;
}

/* Replays one script with get_used, then with the burst for several n;
 * both must match the expectation and each other. */
static int
lie_case(enum vireo_vq_layout layout, uint32_t options, enum lie lie,
	 unsigned int good, bool pre)
{
	static const uint16_t burst_ns[] = { 1, 2, 3, 8, 32 };
	struct outcome ref, bur;
	unsigned int k;
	int rc = -1;

	if (script(&ref, layout, options, lie, good, pre, 0) != 0 ||
	    check_outcome(&ref, lie, good, pre, false) != 0) {
		fprintf(stderr, "  reference (get_used) run\n");
		outcome_fini(&ref);
		return -1;
	}
	for (k = 0; k < sizeof(burst_ns) / sizeof(burst_ns[0]); k++) {
		rc = script(&bur, layout, options, lie, good, pre, burst_ns[k]);
		if (rc == 0)
			rc = check_outcome(&bur, lie, good, pre, true);
		if (rc == 0)
			rc = compare_runs(&ref, &bur, lie);
		if (rc != 0)
			fprintf(stderr, "  burst n %u\n", burst_ns[k]);
		outcome_fini(&bur);
		if (rc != 0)
			break;
	}
	outcome_fini(&ref);
	return rc;
}

/* Every good entry of a full used ring then a bad one, one burst for
 * all of them: good ones come back, then the error. Also the slot
 * positions after a wrap (packed phase 0). */
static int
lie_after_wrap(enum vireo_vq_layout layout, uint32_t options)
{
	const uint16_t size = 4;
	struct vireo_vq_dev_chain c;
	struct vireo_seg segs[4];
	struct test_pair p;
	void *cookies[8];
	uint32_t lens[8];
	unsigned int i, lap;
	int rc;

	if (test_pair_open(&p, layout, size, options) != 0)
		return -1;
	/* a full lap reclaimed, then a lap in packed phase 0 */
	for (lap = 0; lap < 2; lap++) {
		for (i = 0; i < size; i++)
			CHECK_EQ(vireo_vq_add_in1(&p.vq, (uintptr_t)pool[i], 64,
						  pool[i]), 0);
		vireo_vq_publish(&p.vq);
		for (i = 0; i < size; i++) {
			CHECK_EQ(vireo_vq_dev_pop(&p.dev, &c, segs, 4), 1);
			/* the last buffer of the last lap: left outstanding */
			if (lap < 1 || i < size - 1u)
				CHECK_EQ(vireo_vq_dev_push(&p.dev, c.id, 64,
							   c.ndesc), 0);
		}
		vireo_vq_dev_publish(&p.dev);
		if (lap < 1)
			CHECK_EQ(vireo_vq_get_used_burst(&p.vq, cookies, lens,
							 8), size);
	}
	CHECK(!vireo_vq_used_wrap_counter(&p.vq) ||
	      layout == VIREO_VQ_SPLIT);
	/* the outstanding one comes back with an impossible length */
	if (layout == VIREO_VQ_SPLIT) {
		p.vq.split.ring.used->ring[(p.dev.used_idx) & (size - 1)] =
			(struct vireo_split_used_elem){ c.id, 999 };
		p.vq.split.ring.used->idx = p.dev.used_idx + 1;
	} else {
		p.vq.packed.ring.desc[p.dev.used_idx].id = c.id;
		p.vq.packed.ring.desc[p.dev.used_idx].len = 999;
		p.vq.packed.ring.desc[p.dev.used_idx].flags =
			p.dev.used_wrap_counter ? USED_BITS : 0;
	}
	rc = vireo_vq_get_used_burst(&p.vq, cookies, lens, 8);
	CHECK_EQ(rc, size - 1);
	for (i = 0; i < size - 1u; i++) {
		CHECK(cookies[i] == pool[i]);
		CHECK_EQ(lens[i], 64);
	}
	rc = vireo_vq_get_used_burst(&p.vq, cookies, lens, 8);
	CHECK(rc == VIREO_VQ_EBADLEN ||
	      (rc == VIREO_VQ_EBROKEN && (options & VIREO_VQ_OPT_IN_ORDER)));
	CHECK_EQ(p.vq.broken_reason, VIREO_VQ_EBADLEN);
	CHECK_EQ(p.vq.err_count[-VIREO_VQ_EBADLEN], 1);
	CHECK_EQ(vireo_vq_nfree(&p.vq), size - 1);
	test_pair_fini(&p);
	return 0;
}

/* ==== 2. twin roundtrip: burst API and single API in lockstep ==== */

#define REQ_SEGS	4
#define SEG_BYTES	32
#define MAX_BURST	48
#define TWIN_SEED	0xb0b5eedull

struct req {
	uint16_t nr, nw;		/* readable, writable segments */
	uint32_t lens[REQ_SEGS];
	uint32_t writable;		/* sum of writable lengths */
	uint8_t sum;			/* sum of readable bytes */
	uint8_t state;			/* 0 free, 1 posted, 2 device done */
	uint32_t dev_len;		/* what the device wrote */
	uint8_t data[REQ_SEGS][SEG_BYTES];
};

struct pending {
	struct req *req;
	uint16_t id, ndesc;
};

struct twin {
	struct test_pair a;		/* driven with the burst functions */
	struct test_pair b;		/* driven with the single ones */
	uint64_t rng;
	uint32_t options;
	uint16_t size;
	struct req *reqs;
	struct req **free_reqs;
	uint32_t nfree_reqs;
	struct pending *pend;		/* circular, size entries */
	uint32_t pend_head, pend_count;
	uint64_t used_descs;		/* descriptors reclaimed */
	uint64_t steps;
	uint64_t adds, bursts_short, reclaim_calls;
};

static struct req *
seg_owner(uint64_t addr)
{
	return (struct req *)((uint8_t *)(uintptr_t)addr -
			      offsetof(struct req, data));
}

/* The two vqs and rings must be interchangeable: compared every step
 * for small rings, every size/16 steps for big ones (to stay fast). */
static int
twin_compare(struct twin *t, bool full)
{
	if (same_state(&t->a.vq, &t->b.vq) != 0)
		return -1;
	if (!full && t->size > 64 && t->steps % (t->size / 16) != 0)
		return 0;
	CHECK(memcmp(t->a.ring, t->b.ring, t->a.areas.total) == 0);
	CHECK(memcmp(t->a.slots, t->b.slots,
		     (size_t)t->size * sizeof(struct vireo_vq_slot)) == 0);
	return 0;
}

/* Fills a request of n segments, the first nr device-readable. */
static void
req_fill(struct twin *t, struct req *q, uint16_t nr, uint16_t n,
	 struct vireo_buf *bufs)
{
	uint16_t i;
	uint32_t b;

	q->nr = nr;
	q->nw = n - nr;
	q->sum = 0;
	q->writable = 0;
	for (i = 0; i < n; i++) {
		q->lens[i] = 1 + test_rand_below(&t->rng, SEG_BYTES);
		bufs[i].addr = (uintptr_t)q->data[i];
		bufs[i].len = q->lens[i];
		if (i < nr) {
			for (b = 0; b < q->lens[i]; b++) {
				q->data[i][b] = (uint8_t)test_rand(&t->rng);
				q->sum += q->data[i][b];
			}
		} else {
			memset(q->data[i], 0xee, SEG_BYTES);
			q->writable += q->lens[i];
		}
	}
}

/* A burst of one-descriptor buffers: add1_burst on a, the same buffers
 * one by one on b until b is full; both must take the same number. */
static int
twin_add1_burst(struct twin *t)
{
	struct vireo_buf bufs[MAX_BURST];
	void *cookies[MAX_BURST];
	uint16_t k, i, got, nfree = vireo_vq_nfree(&t->a.vq);
	uint16_t flags = test_rand_below(&t->rng, 2) ? VIRTQ_DESC_F_WRITE : 0;
	uint32_t max = t->size + 2u < MAX_BURST ? t->size + 2u : MAX_BURST;
	int rc;

	k = 1 + test_rand_below(&t->rng, max);
	if (k > t->nfree_reqs)
		k = t->nfree_reqs;
	for (i = 0; i < k; i++) {
		struct req *q = t->free_reqs[t->nfree_reqs - 1 - i];

		req_fill(t, q, flags ? 0 : 1, 1, &bufs[i]);
		cookies[i] = q;
	}
	/* the _layout form with a constant layout, as the PMD calls it */
	if (test_rand_below(&t->rng, 2))
		got = vireo_vq_add1_burst(&t->a.vq, bufs, cookies, k, flags);
	else if (t->a.vq.layout == VIREO_VQ_SPLIT)
		got = vireo_vq_add1_burst_layout(&t->a.vq, bufs, cookies, k,
						 flags, VIREO_VQ_SPLIT);
	else
		got = vireo_vq_add1_burst_layout(&t->a.vq, bufs, cookies, k,
						 flags, VIREO_VQ_PACKED);
	CHECK_EQ(got, k < nfree ? k : nfree);
	for (i = 0; i < k; i++) {
		rc = flags ? vireo_vq_add_in1(&t->b.vq, bufs[i].addr,
					      bufs[i].len, cookies[i]) :
			vireo_vq_add_out1(&t->b.vq, bufs[i].addr, bufs[i].len,
					  cookies[i]);
		if (rc == VIREO_VQ_EFULL)
			break;
		CHECK_EQ(rc, 0);
	}
	CHECK_EQ(i, got);
	if (got < k)
		t->bursts_short++;
	for (i = 0; i < got; i++) {
		((struct req *)cookies[i])->state = 1;
		t->nfree_reqs--;
	}
	t->adds += got;
	return 0;
}

/* A chain (vireo_vq_add) or an indirect buffer, the same on both. */
static int
twin_add_chain(struct twin *t, bool indirect)
{
	struct vireo_buf bufs[REQ_SEGS];
	uint16_t max = t->size < REQ_SEGS ? t->size : REQ_SEGS, n, nr;
	struct req *q;
	int ra, rb;

	if (t->nfree_reqs == 0)
		return 0;
	if (indirect)
		max = REQ_SEGS;
	n = 1 + test_rand_below(&t->rng, max);
	nr = test_rand_below(&t->rng, n + 1);
	q = t->free_reqs[t->nfree_reqs - 1];
	req_fill(t, q, nr, n, bufs);
	if (indirect) {
		ra = vireo_vq_add_indirect(&t->a.vq, bufs, nr, n - nr, q);
		rb = vireo_vq_add_indirect(&t->b.vq, bufs, nr, n - nr, q);
	} else {
		ra = vireo_vq_add(&t->a.vq, bufs, nr, n - nr, q);
		rb = vireo_vq_add(&t->b.vq, bufs, nr, n - nr, q);
	}
	CHECK_EQ(ra, rb);
	if (ra == VIREO_VQ_EFULL)
		return 0;
	CHECK_EQ(ra, 0);
	q->state = 1;
	t->nfree_reqs--;
	t->adds++;
	return 0;
}

/* Device: pop every published chain from both rings; they must be the
 * same chain, and the one the driver posted. */
static int
twin_pop(struct twin *t)
{
	struct vireo_seg sa[TEST_INDIRECT_MAX], sb[TEST_INDIRECT_MAX];
	struct vireo_vq_dev_chain ca, cb;
	struct pending *pe;
	uint32_t i, b, off;
	struct req *q;
	uint8_t sum;
	int ra, rb;

	for (;;) {
		ra = vireo_vq_dev_pop(&t->a.dev, &ca, sa, TEST_INDIRECT_MAX);
		rb = vireo_vq_dev_pop(&t->b.dev, &cb, sb, TEST_INDIRECT_MAX);
		CHECK_EQ(ra, rb);
		if (ra != 1)
			break;
		CHECK_EQ(ca.id, cb.id);
		CHECK_EQ(ca.ndesc, cb.ndesc);
		CHECK_EQ(ca.nsegs, cb.nsegs);
		q = seg_owner(sa[0].addr);
		CHECK(q >= t->reqs && q < t->reqs + t->size);
		CHECK_EQ(q->state, 1);
		CHECK_EQ(ca.nsegs, q->nr + q->nw);
		sum = 0;
		for (i = 0; i < ca.nsegs; i++) {
			CHECK_EQ(sa[i].addr, sb[i].addr);
			CHECK_EQ(sa[i].len, sb[i].len);
			CHECK_EQ(sa[i].write, sb[i].write);
			CHECK_EQ(sa[i].addr, (uintptr_t)q->data[i]);
			CHECK_EQ(sa[i].len, q->lens[i]);
			CHECK_EQ(sa[i].write, i >= q->nr);
			for (b = 0; i < q->nr && b < sa[i].len; b++)
				sum += q->data[i][b];
		}
		CHECK_EQ(sum, q->sum);
		/* in-order batches report the posted length for all but
		 * the last buffer: write whole buffers there */
		q->dev_len = (t->options & VIREO_VQ_OPT_IN_ORDER) ? q->writable :
			test_rand_below(&t->rng, q->writable + 1);
		for (i = q->nr, off = 0; i < ca.nsegs; i++)
			for (b = 0; b < sa[i].len && off < q->dev_len; b++, off++)
				q->data[i][b] = (uint8_t)(sum + off);
		CHECK(t->pend_count < t->size);
		pe = &t->pend[(t->pend_head + t->pend_count++) % t->size];
		pe->req = q;
		pe->id = ca.id;
		pe->ndesc = ca.ndesc;
	}
	CHECK_EQ(ra, 0);
	return 0;
}

/* Device: complete up to k pending chains on both rings, in random
 * order, or in order (maybe one used entry per batch) with IN_ORDER. */
static int
twin_complete(struct twin *t, uint32_t k, bool publish)
{
	bool in_order = t->options & VIREO_VQ_OPT_IN_ORDER;
	bool batch = in_order && test_rand_below(&t->rng, 2);
	uint32_t j, count = 0, ndesc = 0;
	struct pending pe, last = { 0 };

	while (k-- > 0 && t->pend_count > 0) {
		j = in_order ? 0 : test_rand_below(&t->rng, t->pend_count);
		pe = t->pend[(t->pend_head + j) % t->size];
		t->pend[(t->pend_head + j) % t->size] = t->pend[t->pend_head];
		t->pend_head = (t->pend_head + 1) % t->size;
		t->pend_count--;
		pe.req->state = 2;
		if (batch) {
			count++;
			ndesc += pe.ndesc;
			last = pe;
			continue;
		}
		CHECK_EQ(vireo_vq_dev_push(&t->a.dev, pe.id, pe.req->dev_len,
					   pe.ndesc), 0);
		CHECK_EQ(vireo_vq_dev_push(&t->b.dev, pe.id, pe.req->dev_len,
					   pe.ndesc), 0);
	}
	if (count > 0) {
		CHECK_EQ(vireo_vq_dev_push_batch(&t->a.dev, last.id,
						 last.req->dev_len, ndesc,
						 count), 0);
		CHECK_EQ(vireo_vq_dev_push_batch(&t->b.dev, last.id,
						 last.req->dev_len, ndesc,
						 count), 0);
	}
	if (publish) {
		vireo_vq_dev_publish(&t->a.dev);
		vireo_vq_dev_publish(&t->b.dev);
	}
	return 0;
}

/* One returned buffer: its length and the bytes the device wrote. */
static int
twin_check_reclaimed(struct twin *t, struct req *q, uint32_t len)
{
	uint32_t i, b, off = 0;

	CHECK(q >= t->reqs && q < t->reqs + t->size);
	CHECK_EQ(q->state, 2);	/* exactly once: it goes back to 0 */
	CHECK_EQ(len, q->dev_len);
	for (i = q->nr; i < q->nr + q->nw; i++)
		for (b = 0; b < q->lens[i]; b++, off++)
			CHECK_EQ(q->data[i][b], off < len ?
				 (uint8_t)(q->sum + off) : 0xee);
	q->state = 0;
	t->free_reqs[t->nfree_reqs++] = q;
	return 0;
}

/* get_used_burst(n) on a, get_used on b as many times: same buffers in
 * the same order; a burst short of n means b has nothing more either. */
static int
twin_reclaim(struct twin *t, uint16_t n)
{
	void *ca[MAX_BURST + 8], *cb;
	uint32_t la[MAX_BURST + 8], lb;
	uint16_t before = vireo_vq_nfree(&t->a.vq);
	int got, i;

	if (test_rand_below(&t->rng, 2))
		got = vireo_vq_get_used_burst(&t->a.vq, ca, la, n);
	else if (t->a.vq.layout == VIREO_VQ_SPLIT)
		got = vireo_vq_get_used_burst_layout(&t->a.vq, ca, la, n,
						     VIREO_VQ_SPLIT);
	else
		got = vireo_vq_get_used_burst_layout(&t->a.vq, ca, la, n,
						     VIREO_VQ_PACKED);
	CHECK(got >= 0 && got <= n);
	t->reclaim_calls++;
	t->used_descs += vireo_vq_nfree(&t->a.vq) - before;
	for (i = 0; i < got; i++) {
		CHECK_EQ(vireo_vq_get_used(&t->b.vq, &cb, &lb), 1);
		CHECK(cb == ca[i]);
		CHECK_EQ(lb, la[i]);
		if (twin_check_reclaimed(t, ca[i], la[i]) != 0)
			return -1;
	}
	if (got < n)
		CHECK_EQ(vireo_vq_get_used(&t->b.vq, &cb, &lb), 0);
	return 0;
}

static int
twin_step(struct twin *t)
{
	uint32_t pick = test_rand_below(&t->rng, 100);
	bool indirect = t->options & VIREO_VQ_OPT_INDIRECT;
	uint32_t n;

	if (pick < 30)
		return twin_add1_burst(t);
	if (pick < 38)
		return twin_add_chain(t, false);
	if (pick < 44 && indirect)
		return twin_add_chain(t, true);
	if (pick < 56) {
		vireo_vq_publish(&t->a.vq);
		vireo_vq_publish(&t->b.vq);
		CHECK_EQ(vireo_vq_kick_prepare(&t->a.vq),
			 vireo_vq_kick_prepare(&t->b.vq));
		return 0;
	}
	if (pick < 66)
		return twin_pop(t);
	if (pick < 78)
		return twin_complete(t, 1 + test_rand_below(&t->rng, 2 * MAX_BURST),
				     test_rand_below(&t->rng, 4) != 0);
	if (pick < 97) {
		/* mostly small bursts, sometimes one larger than the ring */
		n = test_rand_below(&t->rng, 8) ?
			1 + test_rand_below(&t->rng, 16) :
			1 + test_rand_below(&t->rng, MAX_BURST);
		return twin_reclaim(t, n);
	}
	CHECK_EQ(vireo_vq_enable_cb(&t->a.vq), vireo_vq_enable_cb(&t->b.vq));
	if (pick == 99)
		CHECK_EQ(vireo_vq_disable_cb(&t->a.vq),
			 vireo_vq_disable_cb(&t->b.vq));
	return 0;
}

static int
twin_run(struct twin *t)
{
	uint64_t target = 3ull * t->size + 16;
	uint32_t guard;

	for (t->steps = 0; t->used_descs < target; t->steps++) {
		CHECK(t->steps < 400 * target);
		if (twin_step(t) != 0 || twin_compare(t, false) != 0)
			return -1;
	}
	/* drain: everything comes back, nfree returns to size */
	vireo_vq_publish(&t->a.vq);
	vireo_vq_publish(&t->b.vq);
	for (guard = 0; t->nfree_reqs < t->size; guard++) {
		CHECK(guard < 4u * t->size + 64);
		if (twin_pop(t) != 0 || twin_complete(t, t->size, true) != 0 ||
		    twin_reclaim(t, 1 + test_rand_below(&t->rng, MAX_BURST)) != 0 ||
		    twin_compare(t, false) != 0)
			return -1;
	}
	if (twin_compare(t, true) != 0)
		return -1;
	CHECK_EQ(vireo_vq_nfree(&t->a.vq), t->size);
	CHECK_EQ(t->a.vq.in_flight, 0);
	CHECK(!t->a.vq.broken);
	CHECK(!vireo_vq_used_pending(&t->a.vq));
	/* the device agrees on where the rings stand */
	if (t->a.vq.layout == VIREO_VQ_PACKED)
		CHECK_EQ(vireo_vq_get_base(&t->a.vq),
			 vireo_vq_dev_get_base(&t->a.dev));
	return 0;
}

static int
twin(enum vireo_vq_layout layout, uint16_t size, uint32_t options,
     uint64_t seed, struct twin *stats)
{
	struct twin t;
	uint32_t i;
	int rc = -1;

	memset(&t, 0, sizeof(t));
	t.rng = seed;
	t.options = options;
	t.size = size;
	t.reqs = calloc(size, sizeof(*t.reqs));
	t.free_reqs = calloc(size, sizeof(*t.free_reqs));
	t.pend = calloc(size, sizeof(*t.pend));
	if (t.reqs == NULL || t.free_reqs == NULL || t.pend == NULL ||
	    test_pair_init(&t.a, layout, size, options) != 0 ||
	    test_pair_init(&t.b, layout, size, options) != 0)
		goto out;
	/* b registers a's indirect tables: both vqs write the same entries
	 * for the same id, and the rings stay byte-identical */
	for (i = 0; (options & VIREO_VQ_OPT_INDIRECT) && i < size; i++) {
		uint8_t *tab = t.a.indirect + (size_t)i * TEST_INDIRECT_MAX * 16;

		if (vireo_vq_set_indirect(&t.b.vq, i, tab, (uintptr_t)tab,
					  TEST_INDIRECT_MAX) != 0)
			goto out;
	}
	for (i = 0; i < size; i++)
		t.free_reqs[t.nfree_reqs++] = &t.reqs[size - 1 - i];
	rc = twin_run(&t);
	if (stats != NULL) {
		stats->adds += t.adds;
		stats->bursts_short += t.bursts_short;
		stats->reclaim_calls += t.reclaim_calls;
	}
out:
	if (rc != 0)
		fprintf(stderr, "  %s size %u options 0x%x seed 0x%" PRIx64
			" step %" PRIu64 "\n", test_layout_name(layout), size,
			options, seed, t.steps);
	test_pair_fini(&t.a);
	test_pair_fini(&t.b);
	free(t.reqs);
	free(t.free_reqs);
	free(t.pend);
	return rc;
}

/* ==== 3. add1_burst on its own ==== */

/* Snapshot of everything a refused add must leave alone. */
struct snap {
	struct vireo_vq vq;
	uint8_t *ring, *slots;
};

static int
snap_take(struct snap *s, const struct test_pair *p)
{
	size_t slots_size = vireo_vq_slots_size(p->vq.size);

	memcpy(&s->vq, &p->vq, sizeof(s->vq));
	s->ring = malloc(p->areas.total);
	s->slots = malloc(slots_size);
	CHECK(s->ring != NULL && s->slots != NULL);
	memcpy(s->ring, p->ring, p->areas.total);
	memcpy(s->slots, p->slots, slots_size);
	return 0;
}

static int
snap_same(struct snap *s, const struct test_pair *p)
{
	int rc = 0;

	if (memcmp(&s->vq, &p->vq, sizeof(s->vq)) != 0 ||
	    memcmp(s->ring, p->ring, p->areas.total) != 0 ||
	    memcmp(s->slots, p->slots, vireo_vq_slots_size(p->vq.size)) != 0)
		rc = -1;
	free(s->ring);
	free(s->slots);
	return rc;
}

static int
burst_stops_at_nfree(enum vireo_vq_layout layout, uint32_t options)
{
	const uint16_t size = 16;
	struct vireo_buf bufs[12], chain[3];
	void *cookies[12];
	struct vireo_vq_dev_chain c;
	struct vireo_seg segs[4];
	struct test_pair p;
	struct snap s;
	unsigned int i;

	if (test_pair_open(&p, layout, size, options) != 0)
		return -1;
	for (i = 0; i < 12; i++) {
		bufs[i] = (struct vireo_buf){ (uintptr_t)pool[i], 40 + i };
		cookies[i] = pool[i];
	}
	/* a chain of three and seven single buffers leave six free */
	for (i = 0; i < 3; i++)
		chain[i] = (struct vireo_buf){ (uintptr_t)pool[15] + 16 * i, 16 };
	CHECK_EQ(vireo_vq_add(&p.vq, chain, 1, 2, pool[15]), 0);
	CHECK_EQ(vireo_vq_add1_burst(&p.vq, bufs, cookies, 7, 0), 7);
	CHECK_EQ(vireo_vq_nfree(&p.vq), 6);
	/* twelve asked, six fit: the first six */
	CHECK_EQ(vireo_vq_add1_burst(&p.vq, bufs + 7, cookies + 7, 12 - 7,
				     VIRTQ_DESC_F_WRITE), 5);
	CHECK_EQ(vireo_vq_nfree(&p.vq), 1);
	CHECK_EQ(vireo_vq_add1_burst(&p.vq, bufs, cookies, 3,
				     VIRTQ_DESC_F_WRITE), 1);
	CHECK_EQ(vireo_vq_nfree(&p.vq), 0);
	CHECK_EQ(p.vq.staged_bufs, 14);
	CHECK_EQ(p.vq.staged_descs, 16);
	/* full, and n == 0: nothing changes at all */
	if (snap_take(&s, &p) != 0)
		return -1;
	CHECK_EQ(vireo_vq_add1_burst(&p.vq, bufs, cookies, 4, 0), 0);
	CHECK_EQ(vireo_vq_add1_burst(&p.vq, bufs, cookies, 0, 0), 0);
	CHECK(snap_same(&s, &p) == 0);
	vireo_vq_publish(&p.vq);
	/* the device sees exactly those, in order, with the right
	 * direction and length */
	CHECK_EQ(vireo_vq_dev_pop(&p.dev, &c, segs, 4), 1);
	CHECK_EQ(c.nsegs, 3);
	for (i = 0; i < 13; i++) {
		unsigned int k = i < 12 ? i : 0;

		CHECK_EQ(vireo_vq_dev_pop(&p.dev, &c, segs, 4), 1);
		CHECK_EQ(c.nsegs, 1);
		CHECK_EQ(c.ndesc, 1);
		CHECK_EQ(segs[0].addr, bufs[k].addr);
		CHECK_EQ(segs[0].len, bufs[k].len);
		CHECK_EQ(segs[0].write, i >= 7);
		CHECK(p.vq.slot[c.id].cookie == cookies[k]);
		CHECK_EQ(p.vq.slot[c.id].buflen, i >= 7 ? bufs[k].len : 0);
		CHECK_EQ(p.vq.slot[c.id].ndesc, 1);
		/* a read-only buffer reports no length, a writable one
		 * what the device wrote */
		CHECK_EQ(vireo_vq_dev_push(&p.dev, c.id, i >= 7 ? 7 : 0, 1), 0);
	}
	CHECK_EQ(vireo_vq_dev_pop(&p.dev, &c, segs, 4), 0);
	test_pair_fini(&p);
	return 0;
}

/*
 * The batch is invisible until publish: split avail->idx does not move,
 * packed withholds the first head's flags (and the device pops nothing
 * even though the later heads are written). Starting at 'start' in
 * the ring, so a batch may span the wrap, and maybe after a single add
 * that already took the withheld slot.
 */
static int
burst_withheld(enum vireo_vq_layout layout, uint16_t size, uint16_t start,
	       bool single_first)
{
	struct vireo_buf bufs[16];
	void *cookies[16], *ck[16];
	uint32_t lens[16];
	struct vireo_vq_dev_chain c;
	struct vireo_seg segs[4];
	struct test_pair p;
	uint16_t i, n = size - single_first, pos, old_flags = 0;
	uint16_t old_idx;

	if (test_pair_open(&p, layout, size, 0) != 0)
		return -1;
	for (i = 0; i < 16; i++) {
		bufs[i] = (struct vireo_buf){ (uintptr_t)pool[i], 64 };
		cookies[i] = pool[i];
	}
	/* move the ring to 'start' with a full roundtrip of that many */
	if (start > 0) {
		CHECK_EQ(vireo_vq_add1_burst(&p.vq, bufs, cookies, start,
					     VIRTQ_DESC_F_WRITE), start);
		vireo_vq_publish(&p.vq);
		for (i = 0; i < start; i++) {
			CHECK_EQ(vireo_vq_dev_pop(&p.dev, &c, segs, 4), 1);
			CHECK_EQ(vireo_vq_dev_push(&p.dev, c.id, 64, 1), 0);
		}
		vireo_vq_dev_publish(&p.dev);
		CHECK_EQ(vireo_vq_get_used_burst(&p.vq, ck, lens, 16), start);
		(void)vireo_vq_kick_prepare(&p.vq);	/* start counting afresh */
	}
	pos = vireo_vq_next_avail(&p.vq);
	old_idx = layout == VIREO_VQ_SPLIT ? p.vq.split.ring.avail->idx : 0;
	if (layout == VIREO_VQ_PACKED)
		old_flags = p.vq.packed.ring.desc[pos].flags;
	if (single_first)
		CHECK_EQ(vireo_vq_add_in1(&p.vq, bufs[15].addr, 64, cookies[15]), 0);
	CHECK_EQ(vireo_vq_add1_burst(&p.vq, bufs, cookies, n,
				     VIRTQ_DESC_F_WRITE), n);
	/* the device sees nothing yet */
	CHECK_EQ(vireo_vq_dev_pop(&p.dev, &c, segs, 4), 0);
	if (layout == VIREO_VQ_SPLIT) {
		CHECK_EQ(p.vq.split.ring.avail->idx, old_idx);
	} else {
		CHECK(p.vq.packed.stage.pending);
		CHECK_EQ(p.vq.packed.stage.pos, pos);
		CHECK_EQ(p.vq.packed.ring.desc[pos].flags, old_flags);
		/* the later heads are in place, each in its own phase:
		 * the staged phase, flipped past the end of the ring */
		for (i = 1; i < size; i++) {
			bool phase = p.vq.packed.stage.flags & VIRTQ_DESC_F_AVAIL;

			if (pos + i >= size)
				phase = !phase;
			CHECK_EQ(p.vq.packed.ring.desc[(pos + i) % size].flags,
				 VIRTQ_DESC_F_WRITE | vireo_packed_avail_bits(phase));
		}
	}
	CHECK_EQ(vireo_vq_kick_prepare(&p.vq), 0);	/* nothing published */
	vireo_vq_publish(&p.vq);
	CHECK_EQ(vireo_vq_kick_prepare(&p.vq), 1);
	for (i = 0; i < size; i++) {
		CHECK_EQ(vireo_vq_dev_pop(&p.dev, &c, segs, 4), 1);
		CHECK_EQ(segs[0].addr, single_first && i == 0 ? bufs[15].addr :
			 bufs[i - single_first].addr);
		CHECK(segs[0].write);
		CHECK_EQ(vireo_vq_dev_push(&p.dev, c.id, i, 1), 0);
	}
	CHECK_EQ(vireo_vq_dev_pop(&p.dev, &c, segs, 4), 0);
	vireo_vq_dev_publish(&p.dev);
	CHECK_EQ(vireo_vq_get_used_burst(&p.vq, ck, lens, 16), size);
	for (i = 0; i < size; i++) {
		CHECK(ck[i] == (single_first && i == 0 ? cookies[15] :
				cookies[i - single_first]));
		CHECK_EQ(lens[i], i);
	}
	CHECK_EQ(vireo_vq_nfree(&p.vq), size);
	test_pair_fini(&p);
	return 0;
}

/* A broken vq takes nothing and changes nothing; a healthy one stops at
 * a NULL cookie, which the single add refuses with EINVAL. */
static int
burst_refused(enum vireo_vq_layout layout)
{
	struct vireo_buf bufs[4];
	void *cookies[4];
	uint32_t lens[4];
	struct test_pair p;
	struct snap s;
	unsigned int i;

	if (test_pair_open(&p, layout, 8, 0) != 0)
		return -1;
	for (i = 0; i < 4; i++) {
		bufs[i] = (struct vireo_buf){ (uintptr_t)pool[i], 64 };
		cookies[i] = pool[i];
	}
	cookies[2] = NULL;
	CHECK_EQ(vireo_vq_add1_burst(&p.vq, bufs, cookies, 4, 0), 2);
	CHECK_EQ(vireo_vq_nfree(&p.vq), 6);
	CHECK_EQ(vireo_vq_add_out1(&p.vq, bufs[2].addr, 64, NULL),
		 VIREO_VQ_EINVAL);
	cookies[2] = pool[2];
	CHECK_EQ(vireo_vq_add1_burst(&p.vq, bufs, cookies, 1, 0), 1);
	vireo_vq_publish(&p.vq);
	CHECK_EQ(vireo_vq_add1_burst(&p.vq, bufs, cookies, 1, 0), 1);
	/* broken with one add staged: nothing more is taken or written */
	CHECK_EQ(vireo_vq_break(&p.vq, VIREO_VQ_EBADID), VIREO_VQ_EBADID);
	if (snap_take(&s, &p) != 0)
		return -1;
	CHECK_EQ(vireo_vq_add1_burst(&p.vq, bufs, cookies, 4, 0), 0);
	CHECK_EQ(vireo_vq_add1_burst(&p.vq, bufs, cookies, 4,
				     VIRTQ_DESC_F_WRITE), 0);
	if (layout == VIREO_VQ_SPLIT)
		CHECK_EQ(vireo_vq_add1_burst_layout(&p.vq, bufs, cookies, 4, 0,
						    VIREO_VQ_SPLIT), 0);
	else
		CHECK_EQ(vireo_vq_add1_burst_layout(&p.vq, bufs, cookies, 4, 0,
						    VIREO_VQ_PACKED), 0);
	CHECK_EQ(vireo_vq_get_used_burst(&p.vq, cookies, lens, 4),
		 VIREO_VQ_EBROKEN);
	CHECK(snap_same(&s, &p) == 0);
	test_pair_fini(&p);
	return 0;
}

/* get_used_burst with n == 0 takes nothing, even with entries ready. */
static int
reclaim_zero(enum vireo_vq_layout layout, uint32_t options)
{
	struct vireo_vq_dev_chain c;
	struct vireo_seg segs[4];
	struct test_pair p;
	void *ck[4];
	uint32_t lens[4];
	struct snap s;

	if (test_pair_open(&p, layout, 4, options) != 0)
		return -1;
	CHECK_EQ(vireo_vq_add_in1(&p.vq, (uintptr_t)pool[0], 64, pool[0]), 0);
	vireo_vq_publish(&p.vq);
	CHECK_EQ(vireo_vq_dev_pop(&p.dev, &c, segs, 4), 1);
	CHECK_EQ(vireo_vq_dev_push(&p.dev, c.id, 3, 1), 0);
	vireo_vq_dev_publish(&p.dev);
	if (snap_take(&s, &p) != 0)
		return -1;
	CHECK_EQ(vireo_vq_get_used_burst(&p.vq, ck, lens, 0), 0);
	CHECK(snap_same(&s, &p) == 0);
	CHECK_EQ(vireo_vq_get_used_burst(&p.vq, ck, lens, 4), 1);
	CHECK(ck[0] == pool[0]);
	CHECK_EQ(lens[0], 3);
	CHECK_EQ(vireo_vq_get_used_burst(&p.vq, ck, lens, 4), 0);
	test_pair_fini(&p);
	return 0;
}

/* ==== main ==== */

static const uint32_t option_sets[] = {
	0,
	VIREO_VQ_OPT_INDIRECT | VIREO_VQ_OPT_EVENT_IDX,
	VIREO_VQ_OPT_IN_ORDER,
	VIREO_VQ_OPT_IN_ORDER | VIREO_VQ_OPT_INDIRECT | VIREO_VQ_OPT_EVENT_IDX,
};
#define N_OPTION_SETS (sizeof(option_sets) / sizeof(option_sets[0]))

int
main(void)
{
	static const uint16_t goods[] = { 0, 1, 3 };
	static const uint16_t split_big[] = { 1024, 4096, 32768 };
	static const uint16_t packed_big[] = { 1000, 4099, 32768 };
	struct twin stats;
	enum vireo_vq_layout l;
	uint32_t o, size, lie, g, pre, k;
	uint64_t seed;
	int rc;

	/* 1. validation through the burst, both in-order modes */
	for (l = VIREO_VQ_SPLIT; l <= VIREO_VQ_PACKED; l++)
		for (o = 0; o < 2; o++)
			for (lie = 0; lie < LIE_COUNT; lie++) {
				if (!(lies[lie].layouts & (1 << l)) ||
				    !(lies[lie].modes & (1 << o)))
					continue;
				for (g = 0; g < 3; g++)
					for (pre = 0; pre < 2; pre++) {
						/* behind what was seen needs
						 * two cached entries */
						if ((pre && goods[g] == 0) ||
						    (lie == LIE_IDX_BEHIND &&
						     (!pre || goods[g] < 3)))
							continue;
						test_report(lie_case(l,
							o ? VIREO_VQ_OPT_IN_ORDER : 0,
							lie, goods[g], pre),
							"%s%s burst: %s after %u good%s",
							test_layout_name(l),
							o ? " in-order" : "",
							lies[lie].name, goods[g],
							pre ? ", one taken before" : "");
					}
			}
	for (l = VIREO_VQ_SPLIT; l <= VIREO_VQ_PACKED; l++)
		for (o = 0; o < 2; o++)
			test_report(lie_after_wrap(l, o ? VIREO_VQ_OPT_IN_ORDER : 0),
				    "%s%s burst: full ring of good entries after "
				    "wraps, then a bad one", test_layout_name(l),
				    o ? " in-order" : "");

	/* 3. add1_burst alone, and reclaim of zero */
	for (l = VIREO_VQ_SPLIT; l <= VIREO_VQ_PACKED; l++) {
		for (o = 0; o < N_OPTION_SETS; o++) {
			test_report(burst_stops_at_nfree(l, option_sets[o]),
				    "%s options 0x%x: add1_burst stops at the "
				    "free count", test_layout_name(l),
				    option_sets[o]);
			test_report(reclaim_zero(l, option_sets[o]),
				    "%s options 0x%x: get_used_burst of 0",
				    test_layout_name(l), option_sets[o]);
		}
		for (k = 0; k < 4; k++)
			for (pre = 0; pre < 2; pre++) {
				size = l == VIREO_VQ_SPLIT ? 8 : 7;
				test_report(burst_withheld(l, size, (uint16_t)(k * 3 % size),
							   pre),
					    "%s size %u: add1_burst from slot %u%s "
					    "invisible until publish",
					    test_layout_name(l), size, k * 3 % size,
					    pre ? " after a single add" : "");
			}
		test_report(burst_refused(l), "%s: add1_burst on a broken vq or "
			    "a NULL cookie", test_layout_name(l));
	}

	/* 2. twin roundtrip: split powers of two, packed every size to
	 * 256, a few big ones; one line per block of packed sizes */
	memset(&stats, 0, sizeof(stats));
	for (o = 0; o < N_OPTION_SETS; o++) {
		for (size = 1; size <= 256; size <<= 1) {
			seed = TWIN_SEED ^ (size * 131 + o);
			test_report(twin(VIREO_VQ_SPLIT, size, option_sets[o],
					 seed, &stats),
				    "twin split size %u options 0x%x", size,
				    option_sets[o]);
		}
		for (k = 0; k < 3; k++) {
			seed = TWIN_SEED ^ (split_big[k] * 131 + o);
			test_report(twin(VIREO_VQ_SPLIT, split_big[k],
					 option_sets[o], seed, &stats),
				    "twin split size %u options 0x%x",
				    split_big[k], option_sets[o]);
		}
		for (k = 1; k <= 256; k += 64) {
			rc = 0;
			for (size = k; size < k + 64; size++) {
				seed = TWIN_SEED ^ (size * 977 + o);
				rc |= twin(VIREO_VQ_PACKED, size, option_sets[o],
					   seed, &stats);
			}
			test_report(rc, "twin packed sizes %u..%u options 0x%x",
				    k, size - 1, option_sets[o]);
		}
		for (k = 0; k < 3; k++) {
			seed = TWIN_SEED ^ (packed_big[k] * 977 + o);
			test_report(twin(VIREO_VQ_PACKED, packed_big[k],
					 option_sets[o], seed, &stats),
				    "twin packed size %u options 0x%x",
				    packed_big[k], option_sets[o]);
		}
	}
	/* the random runs must have hit the interesting paths */
	rc = stats.bursts_short > 100 && stats.reclaim_calls > 1000 ? 0 : -1;
	test_report(rc, "twin coverage: %" PRIu64 " buffers added, %" PRIu64
		    " add bursts cut at the free count, %" PRIu64
		    " reclaim bursts", stats.adds, stats.bursts_short,
		    stats.reclaim_calls);
	return test_summary();
}
