/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The Vireo Authors
 */

/*
 * Driver role against device role on the same memory, both layouts:
 * random interleavings of add / publish / pop / complete / reclaim over
 * at least ten full wraps, direct and indirect chains, in-order batches
 * and out-of-order completion. The device checks every segment it is
 * given against the request; the driver checks the bytes the device
 * wrote and the length it reported. The seed is printed on failure.
 */

#include <stddef.h>

#include "vring_test.h"

#define REQ_SEGS	4
#define SEG_BYTES	48
#define BASE_SEED	0x5eedf00dull

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
	uint16_t id;
	uint16_t ndesc;
};

struct run {
	struct test_pair p;
	uint64_t rng;
	uint32_t options;
	struct req *reqs;
	struct req **free_reqs;
	uint32_t nfree_reqs;
	struct pending *pend;		/* circular, size entries */
	uint32_t pend_head, pend_count;
	uint64_t used_descs;		/* descriptors reclaimed */
	uint64_t reclaimed;		/* buffers reclaimed */
};

static struct req *
seg_owner(uint64_t addr)
{
	return (struct req *)((uint8_t *)(uintptr_t)addr -
			      offsetof(struct req, data));
}

static int
driver_add(struct run *r)
{
	struct vireo_vq *vq = &r->p.vq;
	struct vireo_buf bufs[REQ_SEGS];
	uint16_t max = vq->size < REQ_SEGS ? vq->size : REQ_SEGS;
	bool indirect = (r->options & VIREO_VQ_OPT_INDIRECT) &&
		test_rand_below(&r->rng, 2);
	uint16_t n, i, need;
	struct req *q;
	int rc;

	if (r->nfree_reqs == 0)
		return 0;
	if (indirect)
		max = REQ_SEGS;
	n = 1 + test_rand_below(&r->rng, max);
	need = indirect ? 1 : n;
	q = r->free_reqs[r->nfree_reqs - 1];
	q->nr = test_rand_below(&r->rng, n + 1);
	q->nw = n - q->nr;
	q->sum = 0;
	q->writable = 0;
	for (i = 0; i < n; i++) {
		q->lens[i] = 1 + test_rand_below(&r->rng, SEG_BYTES);
		bufs[i].addr = (uintptr_t)q->data[i];
		bufs[i].len = q->lens[i];
		if (i < q->nr) {
			uint32_t b;

			for (b = 0; b < q->lens[i]; b++) {
				q->data[i][b] = (uint8_t)test_rand(&r->rng);
				q->sum += q->data[i][b];
			}
		} else {
			memset(q->data[i], 0xee, SEG_BYTES);
			q->writable += q->lens[i];
		}
	}
	if (indirect)
		rc = vireo_vq_add_indirect(vq, bufs, q->nr, q->nw, q);
	else if (n == 1 && test_rand_below(&r->rng, 2))
		rc = q->nr ? vireo_vq_add_out1(vq, bufs[0].addr, bufs[0].len, q) :
			vireo_vq_add_in1(vq, bufs[0].addr, bufs[0].len, q);
	else
		rc = vireo_vq_add(vq, bufs, q->nr, q->nw, q);
	if (vireo_vq_nfree(vq) + (rc == 0 ? need : 0) < need) {
		CHECK_EQ(rc, VIREO_VQ_EFULL);
		return 0;
	}
	CHECK_EQ(rc, 0);
	q->state = 1;
	r->nfree_reqs--;
	return 0;
}

/* Device: take every published chain and check it against its request. */
static int
device_pop(struct run *r)
{
	struct vireo_seg segs[TEST_INDIRECT_MAX];
	struct vireo_vq_dev_chain c;
	struct pending *pe;
	uint32_t i, b, off;
	struct req *q;
	uint8_t sum;
	int rc;

	while ((rc = vireo_vq_dev_pop(&r->p.dev, &c, segs,
				      TEST_INDIRECT_MAX)) == 1) {
		q = seg_owner(segs[0].addr);
		CHECK(q >= r->reqs && q < r->reqs + r->p.vq.size);
		CHECK_EQ(q->state, 1);
		CHECK_EQ(c.nsegs, q->nr + q->nw);
		sum = 0;
		for (i = 0; i < c.nsegs; i++) {
			CHECK_EQ(segs[i].addr, (uintptr_t)q->data[i]);
			CHECK_EQ(segs[i].len, q->lens[i]);
			CHECK_EQ(segs[i].write, i >= q->nr);
			for (b = 0; i < q->nr && b < segs[i].len; b++)
				sum += q->data[i][b];
		}
		CHECK_EQ(sum, q->sum);
		/* in-order batches report the posted length for all but the
		 * last buffer, so write whole buffers there */
		q->dev_len = (r->options & VIREO_VQ_OPT_IN_ORDER) ? q->writable :
			test_rand_below(&r->rng, q->writable + 1);
		for (i = q->nr, off = 0; i < c.nsegs; i++)
			for (b = 0; b < segs[i].len && off < q->dev_len; b++, off++)
				q->data[i][b] = (uint8_t)(sum + off);
		CHECK(r->pend_count < r->p.vq.size);
		pe = &r->pend[(r->pend_head + r->pend_count++) % r->p.vq.size];
		pe->req = q;
		pe->id = c.id;
		pe->ndesc = c.ndesc;
	}
	CHECK_EQ(rc, 0);
	return 0;
}

/* Device: complete up to k pending chains, in order (maybe one used
 * entry for a batch) or in random order. */
static int
device_complete(struct run *r, uint32_t k)
{
	bool in_order = r->options & VIREO_VQ_OPT_IN_ORDER;
	bool batch = in_order && test_rand_below(&r->rng, 2);
	uint32_t size = r->p.vq.size, j, count = 0, ndesc = 0;
	struct pending pe, last = { 0 };

	while (k-- > 0 && r->pend_count > 0) {
		j = in_order ? 0 : test_rand_below(&r->rng, r->pend_count);
		pe = r->pend[(r->pend_head + j) % size];
		r->pend[(r->pend_head + j) % size] = r->pend[r->pend_head];
		r->pend_head = (r->pend_head + 1) % size;
		r->pend_count--;
		pe.req->state = 2;
		if (batch) {
			count++;
			ndesc += pe.ndesc;
			last = pe;
			continue;
		}
		CHECK_EQ(vireo_vq_dev_push(&r->p.dev, pe.id, pe.req->dev_len,
					   pe.ndesc), 0);
	}
	if (count > 0)
		CHECK_EQ(vireo_vq_dev_push_batch(&r->p.dev, last.id,
						 last.req->dev_len, ndesc,
						 count), 0);
	if (test_rand_below(&r->rng, 4) != 0) {
		vireo_vq_dev_publish(&r->p.dev);
		(void)vireo_vq_dev_should_interrupt(&r->p.dev);
	}
	return 0;
}

static int
check_reclaimed(struct run *r, struct req *q, uint32_t len)
{
	uint32_t i, b, off = 0;

	CHECK(q >= r->reqs && q < r->reqs + r->p.vq.size);
	CHECK_EQ(q->state, 2);
	CHECK_EQ(len, q->dev_len);
	for (i = q->nr; i < q->nr + q->nw; i++)
		for (b = 0; b < q->lens[i]; b++, off++)
			CHECK_EQ(q->data[i][b], off < len ?
				 (uint8_t)(q->sum + off) : 0xee);
	q->state = 0;
	r->free_reqs[r->nfree_reqs++] = q;
	r->reclaimed++;
	return 0;
}

static int
driver_reclaim(struct run *r)
{
	void *cookies[16] = { NULL };
	uint32_t lens[16] = { 0 };
	uint16_t before;
	int n, i;

	if (test_rand_below(&r->rng, 2)) {
		before = vireo_vq_nfree(&r->p.vq);
		n = vireo_vq_get_used(&r->p.vq, &cookies[0], &lens[0]);
		CHECK(n == 0 || n == 1);
		if (n == 1) {
			r->used_descs += vireo_vq_nfree(&r->p.vq) - before;
			return check_reclaimed(r, cookies[0], lens[0]);
		}
		return 0;
	}
	before = vireo_vq_nfree(&r->p.vq);
	n = vireo_vq_get_used_burst(&r->p.vq, cookies, lens,
				    1 + test_rand_below(&r->rng, 16));
	CHECK(n >= 0);
	r->used_descs += vireo_vq_nfree(&r->p.vq) - before;
	for (i = 0; i < n; i++)
		if (check_reclaimed(r, cookies[i], lens[i]) != 0)
			return -1;
	return 0;
}

static int
drain(struct run *r)
{
	uint32_t guard;

	vireo_vq_publish(&r->p.vq);
	for (guard = 0; r->nfree_reqs < r->p.vq.size; guard++) {
		CHECK(guard < 4u * r->p.vq.size + 16);
		if (device_pop(r) != 0 || device_complete(r, r->p.vq.size) != 0)
			return -1;
		vireo_vq_dev_publish(&r->p.dev);
		if (driver_reclaim(r) != 0)
			return -1;
	}
	CHECK_EQ(vireo_vq_nfree(&r->p.vq), r->p.vq.size);
	CHECK_EQ(r->p.vq.in_flight, 0);
	CHECK(!r->p.vq.broken);
	CHECK(!vireo_vq_used_pending(&r->p.vq));
	return 0;
}

static int
run_steps(struct run *r)
{
	uint64_t target = 10ull * r->p.vq.size + 8;
	uint64_t steps;
	uint32_t pick;

	for (steps = 0; r->used_descs < target; steps++) {
		CHECK(steps < 200 * target);
		pick = test_rand_below(&r->rng, 100);
		if (pick < 40) {
			if (driver_add(r) != 0)
				return -1;
		} else if (pick < 55) {
			vireo_vq_publish(&r->p.vq);
			CHECK(vireo_vq_kick_prepare(&r->p.vq) >= 0);
		} else if (pick < 65) {
			if (device_pop(r) != 0)
				return -1;
		} else if (pick < 80) {
			if (device_complete(r, 1 + test_rand_below(&r->rng, 8)))
				return -1;
		} else if (pick < 97) {
			if (driver_reclaim(r) != 0)
				return -1;
		} else {
			CHECK(vireo_vq_enable_cb(&r->p.vq) >= 0);
			if (pick == 99)
				CHECK_EQ(vireo_vq_disable_cb(&r->p.vq), 0);
		}
	}
	return drain(r);
}

static int
roundtrip(enum vireo_vq_layout layout, uint16_t size, uint32_t options,
	  uint64_t seed)
{
	struct run r;
	uint32_t i;
	int rc = -1;

	memset(&r, 0, sizeof(r));
	r.rng = seed;
	r.options = options;
	r.reqs = calloc(size, sizeof(*r.reqs));
	r.free_reqs = calloc(size, sizeof(*r.free_reqs));
	r.pend = calloc(size, sizeof(*r.pend));
	if (r.reqs == NULL || r.free_reqs == NULL || r.pend == NULL ||
	    test_pair_init(&r.p, layout, size, options) != 0)
		goto out;
	for (i = 0; i < size; i++)
		r.free_reqs[r.nfree_reqs++] = &r.reqs[size - 1 - i];
	rc = run_steps(&r);
	/* both sides agree on where the rings stand */
	if (rc == 0 && layout == VIREO_VQ_PACKED &&
	    (vireo_vq_get_base(&r.p.vq) != vireo_vq_dev_get_base(&r.p.dev)))
		rc = -1;
	if (rc != 0)
		fprintf(stderr, "  %s size %u options 0x%x seed 0x%" PRIx64 "\n",
			test_layout_name(layout), size, options, seed);
out:
	test_pair_fini(&r.p);
	free(r.reqs);
	free(r.free_reqs);
	free(r.pend);
	return rc;
}

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
	static const uint16_t packed_spot[] = { 1500, 2047, 4096, 4099,
						 16384, 32767, 32768 };
	/* VIREO_TEST_QUICK (valgrind runs): fewer sizes, same coverage */
	bool quick = getenv("VIREO_TEST_QUICK") != NULL;
	uint32_t size, o, k, limit, max_spot = quick ? 4099 : VIREO_VQ_MAX_SIZE;
	uint64_t seed;
	int rc;

	/* split: every power of two, every option set */
	for (o = 0; o < N_OPTION_SETS; o++)
		for (size = 1; size <= max_spot; size <<= 1) {
			seed = BASE_SEED ^ (size * 131 + o);
			test_report(roundtrip(VIREO_VQ_SPLIT, size,
					      option_sets[o], seed),
				    "split size %u options 0x%x", size,
				    option_sets[o]);
		}
	/* packed: every size to 1024 for the first two option sets, to
	 * 128 for the in-order ones; one line per block of sizes */
	for (o = 0; o < N_OPTION_SETS; o++) {
		limit = o < 2 && !quick ? 1024 : 128;
		for (k = 1; k <= limit; k += 128) {
			rc = 0;
			for (size = k; size < k + 128 && size <= limit; size++) {
				seed = BASE_SEED ^ (size * 977 + o);
				rc |= roundtrip(VIREO_VQ_PACKED, size,
						option_sets[o], seed);
			}
			test_report(rc, "packed sizes %u..%u options 0x%x", k,
				    size - 1, option_sets[o]);
		}
	}
	for (o = 0; o < N_OPTION_SETS; o++)
		for (k = 0; k < sizeof(packed_spot) / sizeof(packed_spot[0]); k++) {
			size = packed_spot[k];
			if (size > max_spot)
				continue;
			seed = BASE_SEED ^ (size * 977 + o);
			test_report(roundtrip(VIREO_VQ_PACKED, size,
					      option_sets[o], seed),
				    "packed size %u options 0x%x", size,
				    option_sets[o]);
		}
	return test_summary();
}
