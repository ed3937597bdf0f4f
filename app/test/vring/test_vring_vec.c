/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The Vireo Authors
 */

/*
 * The vector batch primitives (vring_vec.h) against the scalar ones they
 * must equal bit for bit.  Built once per instruction set (TEST_VEC_ISA:
 * sse, avx2, avx512); exits 77 (skipped) on a CPU without it.
 *  1. directed: four used entries of one-descriptor buffers are taken
 *     by the vector batch itself (not the scalar fallback), both
 *     layouts, in order or not;
 *  2. twins: two vqs, one driven by the scalar functions, one by the
 *     vector ones, each with a device over its own ring doing the same
 *     thing: random adds (one-descriptor runs, now and then a chain or
 *     a NULL cookie), completions in random order and batches, random
 *     reclaim sizes, and lies written into both rings alike (a bad id,
 *     a repeated id, a bad length, bad flags, anywhere in a batch of
 *     four).  After every step: same return values, buffers, lengths,
 *     ring memory, slot table, state and error counters.
 * Seeds are fixed and printed with a failure.
 */

#include <stddef.h>

#include "vring_vec.h"
#include "vring_test.h"

#ifndef TEST_VEC_ISA
#error "build with -DTEST_VEC_ISA=\"sse\" (or avx2, avx512)"
#endif

#define TEST_MIN(x, y)	((x) < (y) ? (x) : (y))
#define BUF_COUNT	512
#define BUF_SIZE	128

static uint8_t bufmem[BUF_COUNT][BUF_SIZE] __attribute__((aligned(64)));

/* Every field of the driver state, and the memory both vqs own. */
static int
twin_same(const struct test_pair *a, const struct test_pair *b)
{
	const struct vireo_vq *x = &a->vq, *y = &b->vq;

	CHECK_EQ(x->nfree, y->nfree);
	CHECK_EQ(x->free_cursor, y->free_cursor);
	if (!(x->options & VIREO_VQ_OPT_IN_ORDER))
		CHECK(memcmp(x->free_ids, y->free_ids,
			     x->free_cursor * sizeof(uint16_t)) == 0);
	CHECK_EQ(x->last_used, y->last_used);
	CHECK_EQ(x->used_wrap_counter, y->used_wrap_counter);
	CHECK_EQ(x->in_flight, y->in_flight);
	CHECK_EQ(x->staged_bufs, y->staged_bufs);
	CHECK_EQ(x->staged_descs, y->staged_descs);
	CHECK_EQ(x->added_since_kick, y->added_since_kick);
	CHECK_EQ(x->inorder_next, y->inorder_next);
	CHECK_EQ(x->batch_pending, y->batch_pending);
	/* the batch's end means something only while it is open */
	if (x->batch_pending) {
		CHECK_EQ(x->batch_end, y->batch_end);
		CHECK_EQ(x->batch_end_len, y->batch_end_len);
	}
	CHECK_EQ(x->broken, y->broken);
	CHECK_EQ(x->broken_reason, y->broken_reason);
	CHECK(memcmp(x->err_count, y->err_count, sizeof(x->err_count)) == 0);
	if (x->layout == VIREO_VQ_SPLIT) {
		CHECK_EQ(x->split.avail_idx, y->split.avail_idx);
		CHECK_EQ(x->split.used_idx_seen, y->split.used_idx_seen);
	} else {
		CHECK_EQ(x->packed.next_avail, y->packed.next_avail);
		CHECK_EQ(x->packed.avail_wrap_counter,
			 y->packed.avail_wrap_counter);
		CHECK_EQ(x->packed.avail_used_flags, y->packed.avail_used_flags);
		CHECK_EQ(x->packed.stage.pending, y->packed.stage.pending);
		CHECK_EQ(x->packed.stage.pos, y->packed.stage.pos);
		CHECK_EQ(x->packed.stage.flags, y->packed.stage.flags);
	}
	CHECK(memcmp(a->ring, b->ring, a->areas.total) == 0);
	CHECK(memcmp(a->slots, b->slots,
		     x->size * sizeof(struct vireo_vq_slot)) == 0);
	return 0;
}

static int
twin_open(struct test_pair *a, struct test_pair *b,
	  enum vireo_vq_layout layout, uint16_t size, uint32_t options)
{
	if (test_pair_init(a, layout, size, options) != 0 ||
	    test_pair_init(b, layout, size, options) != 0)
		return -1;
	/* the slot tables start out the same, links included */
	memcpy(b->slots, a->slots, size * sizeof(struct vireo_vq_slot));
	return 0;
}

/* ==== 1. directed: the vector batch takes four ==== */

static int
directed(enum vireo_vq_layout layout, uint32_t options)
{
	const uint16_t size = 16;
	struct test_pair a, b;
	struct vireo_buf bufs[8];
	void *cookies[8], *got[8];
	uint32_t lens[8];
	struct vireo_vq_dev_chain c;
	struct vireo_seg segs[2];
	int lap, i, rc = -1;

	if (twin_open(&a, &b, layout, size, options) != 0)
		goto out;
	for (i = 0; i < 8; i++) {
		bufs[i].addr = (uintptr_t)bufmem[i];
		bufs[i].len = BUF_SIZE;
		cookies[i] = bufmem[i];
	}
	/* a few laps, so both phases and the ring's end are crossed */
	for (lap = 0; lap < 9; lap++) {
		if (vireo_vq_add1_burst(&a.vq, bufs, cookies, 8,
					VIRTQ_DESC_F_WRITE) != 8 ||
		    vireo_vq_add1_burst_vec(&b.vq, bufs, cookies, 8,
					    VIRTQ_DESC_F_WRITE) != 8)
			goto out;
		vireo_vq_publish(&a.vq);
		vireo_vq_publish(&b.vq);
		if (twin_same(&a, &b) != 0)
			goto out;
		for (i = 0; i < 8; i++) {
			if (vireo_vq_dev_pop(&a.dev, &c, segs, 2) != 1 ||
			    vireo_vq_dev_push(&a.dev, c.id, 60 + i, 1) != 0 ||
			    vireo_vq_dev_pop(&b.dev, &c, segs, 2) != 1 ||
			    vireo_vq_dev_push(&b.dev, c.id, 60 + i, 1) != 0)
				goto out;
		}
		vireo_vq_dev_publish(&a.dev);
		vireo_vq_dev_publish(&b.dev);
		if (vireo_vq_get_used_burst(&a.vq, got, lens, 8) != 8)
			goto out;
		/* the vector batch itself, twice */
		if (layout == VIREO_VQ_SPLIT) {
			if (vireo_vq_split_ready(&b.vq, 8) != 8)
				goto out;
		}
		for (i = 0; i < 8; i += 4) {
			if (!vireo_vq_take4(&b.vq, got + i, lens + i, layout)) {
				fprintf(stderr, "lap %d: batch %d not taken by the vector code\n",
					lap, i / 4);
				goto out;
			}
		}
		for (i = 0; i < 8; i++)
			if (got[i] != bufmem[i] || lens[i] != 60u + i)
				goto out;
		if (twin_same(&a, &b) != 0)
			goto out;
	}
	rc = 0;
out:
	test_pair_fini(&a);
	test_pair_fini(&b);
	return rc;
}

/* ==== 2. twins under random traffic and lies ==== */

/* A chain the device holds: what it popped, where it will write. */
struct held {
	uint16_t id;
	uint16_t ndesc;
	uint32_t writable;	/* bytes it may write */
};

struct run_stats {
	unsigned int reclaimed, broken, lies;
};

static int
twin_add(struct test_pair *a, struct test_pair *b, uint64_t *rs,
	 unsigned int *next_buf)
{
	struct vireo_buf bufs[48];
	void *cookies[48];
	uint16_t n = (uint16_t)test_rand_below(rs, 44) + 1;
	uint16_t flags = test_rand_below(rs, 3) == 0 ? 0 : VIRTQ_DESC_F_WRITE;
	uint16_t i;
	int ra, rb;

	if (test_rand_below(rs, 8) == 0 && a->vq.nfree >= 2) {
		/* a chain of two: a batch holding it falls back */
		struct vireo_buf ch[2] = {
			{ (uintptr_t)bufmem[*next_buf % BUF_COUNT], 16 },
			{ (uintptr_t)bufmem[*next_buf % BUF_COUNT] + 16, 64 },
		};
		void *ck = bufmem[*next_buf % BUF_COUNT];

		(*next_buf)++;
		ra = vireo_vq_add(&a->vq, ch, 1, 1, ck);
		rb = vireo_vq_add(&b->vq, ch, 1, 1, ck);
		CHECK_EQ(ra, rb);
		return 0;
	}
	for (i = 0; i < n; i++) {
		unsigned int k = (*next_buf)++ % BUF_COUNT;

		bufs[i].addr = (uintptr_t)bufmem[k];
		bufs[i].len = 1 + test_rand_below(rs, BUF_SIZE);
		cookies[i] = bufmem[k];
	}
	if (test_rand_below(rs, 16) == 0)
		cookies[test_rand_below(rs, n)] = NULL;
	ra = vireo_vq_add1_burst(&a->vq, bufs, cookies, n, flags);
	rb = vireo_vq_add1_burst_vec(&b->vq, bufs, cookies, n, flags);
	CHECK_EQ(ra, rb);
	return 0;
}

/* Writes the same lie over the used entry at 'pos' of both rings. */
static void
twin_lie(struct test_pair *a, struct test_pair *b, uint64_t *rs,
	 uint16_t pos, const uint16_t *batch_ids, unsigned int nb)
{
	struct test_pair *p[2] = { a, b };
	unsigned int kind = test_rand_below(rs, 5), i;
	uint16_t size = a->vq.size;
	uint32_t id = 0, len = 0;
	uint16_t flags = 0;

	switch (kind) {
	case 0:		/* out of range */
		id = size + test_rand_below(rs, 3);
		if (a->vq.layout == VIREO_VQ_SPLIT && test_rand_below(rs, 2))
			id = 0x10000 + id;
		break;
	case 1:		/* another entry's id, or any id */
		id = nb > 0 ? batch_ids[test_rand_below(rs, nb)] :
			test_rand_below(rs, size);
		break;
	case 2:		/* longer than anything posted */
		len = BUF_SIZE + 1 + test_rand_below(rs, 1000);
		break;
	case 3:		/* USED without AVAIL */
		flags = VIRTQ_DESC_F_USED;
		break;
	default:	/* the other phase */
		flags = a->dev.used_wrap_counter ? 0 :
			VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED;
		break;
	}
	for (i = 0; i < 2; i++) {
		if (a->vq.layout == VIREO_VQ_SPLIT) {
			struct vireo_split_used_elem *e =
				&p[i]->vq.split.ring.used->ring[pos & (size - 1)];

			if (kind <= 1)
				e->id = id;
			else
				e->len = len;	/* no flags on split */
		} else {
			struct vireo_packed_desc *d = &p[i]->vq.packed.ring.desc[pos];

			if (kind <= 1)
				d->id = (uint16_t)id;
			else if (kind == 2)
				d->len = len;
			else
				d->flags = flags;
		}
	}
}

/* The device side of a step, on both rings: take what is available,
 * complete some of what it holds (random order without IN_ORDER, runs
 * and batches with it), now and then lie about one entry. */
static int
twin_device(struct test_pair *a, struct test_pair *b, uint64_t *rs,
	    struct held *held, unsigned int *nheld, bool liar,
	    struct run_stats *st)
{
	struct vireo_vq_dev_chain ca, cb;
	struct vireo_seg sa[4], sb[4];
	bool in_order = a->vq.options & VIREO_VQ_OPT_IN_ORDER;
	uint16_t pos[64], ids[64];
	unsigned int i, k, m, npos = 0;
	int ra, rb;

	for (;;) {
		ra = vireo_vq_dev_pop(&a->dev, &ca, sa, 4);
		rb = vireo_vq_dev_pop(&b->dev, &cb, sb, 4);
		CHECK_EQ(ra, rb);
		if (ra != 1)
			break;
		CHECK_EQ(ca.id, cb.id);
		CHECK_EQ(ca.ndesc, cb.ndesc);
		held[*nheld].id = ca.id;
		held[*nheld].ndesc = ca.ndesc;
		held[*nheld].writable = 0;
		for (k = 0; k < ca.nsegs; k++)
			if (sa[k].write)
				held[*nheld].writable += sa[k].len;
		(*nheld)++;
	}
	m = test_rand_below(rs, *nheld + 1);
	if (m > 64)
		m = 64;
	for (i = 0; i < m; i++) {
		struct held h;
		uint32_t len;
		uint16_t count = 1, ndesc;

		if (!in_order) {
			/* any held chain */
			k = test_rand_below(rs, *nheld);
			h = held[k];
			held[k] = held[--(*nheld)];
			ndesc = h.ndesc;
		} else {
			/* the oldest, or a batch of the oldest few with
			 * one entry naming the last */
			h = held[0];
			ndesc = h.ndesc;
			if (test_rand_below(rs, 4) == 0) {
				count = (uint16_t)(1 + test_rand_below(rs,
					TEST_MIN(*nheld, m - i)));
				for (k = 1; k < count; k++)
					ndesc += held[k].ndesc;
				h = held[count - 1];
			}
			memmove(held, held + count,
				(*nheld - count) * sizeof(*held));
			*nheld -= count;
			i += count - 1;
		}
		len = h.writable ? test_rand_below(rs, h.writable + 1) :
			test_rand_below(rs, 3) * 16;	/* read-only: noise */
		pos[npos] = a->dev.used_idx;
		ids[npos++] = h.id;
		CHECK_EQ(vireo_vq_dev_push_batch(&a->dev, h.id, len, ndesc,
						 count), 0);
		CHECK_EQ(vireo_vq_dev_push_batch(&b->dev, h.id, len, ndesc,
						 count), 0);
	}
	vireo_vq_dev_publish(&a->dev);
	vireo_vq_dev_publish(&b->dev);
	/* after the publish: it stores the first entry's flags last */
	if (liar && npos > 0 && test_rand_below(rs, 30) == 0) {
		k = test_rand_below(rs, npos);
		/* ids of the neighbours: a repeated id inside a batch */
		twin_lie(a, b, rs, pos[k], &ids[k & ~3u],
			 TEST_MIN(4u, npos - (k & ~3u)));
		st->lies++;
	}
	return 0;
}

static int
twin_run(enum vireo_vq_layout layout, uint16_t size, uint32_t options,
	 uint64_t seed, unsigned int steps, bool liar, struct run_stats *st)
{
	static struct held held[1024];
	struct test_pair a, b;
	void *ca[64], *cb[64];
	uint32_t la[64], lb[64];
	unsigned int nheld = 0, next_buf = 0, s;
	uint64_t rs = seed;
	int rc = -1, ra, rb;

	if (twin_open(&a, &b, layout, size, options) != 0)
		goto out;
	for (s = 0; s < steps; s++) {
		switch (test_rand_below(&rs, 4)) {
		case 0:
			if (twin_add(&a, &b, &rs, &next_buf) != 0)
				goto out;
			if (test_rand_below(&rs, 3) != 0) {
				vireo_vq_publish(&a.vq);
				vireo_vq_publish(&b.vq);
			}
			break;
		case 1:
			if (twin_device(&a, &b, &rs, held, &nheld, liar, st) != 0)
				goto out;
			break;
		default: {
			uint16_t n = (uint16_t)test_rand_below(&rs, 40) + 1;

			ra = vireo_vq_get_used_burst(&a.vq, ca, la, n);
			rb = vireo_vq_get_used_burst_vec(&b.vq, cb, lb, n);
			if (ra != rb) {
				fprintf(stderr, "step %u: reclaim of %u: scalar %d, vector %d\n",
					s, n, ra, rb);
				goto out;
			}
			if (ra > 0) {
				st->reclaimed += ra;
				if (memcmp(ca, cb, ra * sizeof(ca[0])) != 0 ||
				    memcmp(la, lb, ra * sizeof(la[0])) != 0) {
					fprintf(stderr, "step %u: buffers differ\n", s);
					goto out;
				}
			}
			break;
		}
		}
		if (twin_same(&a, &b) != 0) {
			fprintf(stderr, "step %u: state differs\n", s);
			goto out;
		}
		if (a.vq.broken) {
			st->broken++;
			break;
		}
	}
	rc = 0;
out:
	if (rc != 0)
		fprintf(stderr, "  %s size %u options %#x seed %#llx\n",
			test_layout_name(layout), size, options,
			(unsigned long long)seed);
	test_pair_fini(&a);
	test_pair_fini(&b);
	return rc;
}

static int
twins(enum vireo_vq_layout layout, uint32_t options)
{
	static const uint16_t split_sizes[] = { 4, 8, 16, 64, 256 };
	static const uint16_t packed_sizes[] = { 3, 4, 7, 16, 61, 256 };
	const uint16_t *sizes = layout == VIREO_VQ_SPLIT ? split_sizes :
		packed_sizes;
	unsigned int nsizes = layout == VIREO_VQ_SPLIT ? 5 : 6, i, r;
	struct run_stats st = { 0 };

	for (i = 0; i < nsizes; i++)
		for (r = 0; r < 60; r++)
			if (twin_run(layout, sizes[i], options,
				     0x9e3779b97f4a7c15ull * (r + 1) + i,
				     3000, r % 3 == 0, &st) != 0)
				return -1;
	printf("     %u buffers reclaimed, %u lies written, %u runs broken alike\n",
	       st.reclaimed, st.lies, st.broken);
	/* the lies must have broken some runs, not all */
	CHECK(st.broken > 0 && st.broken < nsizes * 60 && st.reclaimed > 100000);
	return 0;
}

static bool
cpu_has_isa(void)
{
	__builtin_cpu_init();
	if (strcmp(TEST_VEC_ISA, "avx512") == 0)
		return __builtin_cpu_supports("avx512f") &&
			__builtin_cpu_supports("avx512bw") &&
			__builtin_cpu_supports("avx512vl") &&
			__builtin_cpu_supports("avx512dq");
	if (strcmp(TEST_VEC_ISA, "avx2") == 0)
		return __builtin_cpu_supports("avx2");
	return __builtin_cpu_supports("sse4.2");
}

static __attribute__((noinline)) int
run_all(void)
{
	static const uint32_t modes[] = { 0, VIREO_VQ_OPT_IN_ORDER };
	unsigned int l, m;

	for (l = 0; l < 2; l++)
		for (m = 0; m < 2; m++) {
			test_report(directed(l, modes[m]), "%s: %s%s: vector batches of four taken",
				    TEST_VEC_ISA, test_layout_name(l),
				    modes[m] ? " in-order" : "");
			test_report(twins(l, modes[m]), "%s: %s%s: vector equals scalar under random traffic and lies",
				    TEST_VEC_ISA, test_layout_name(l),
				    modes[m] ? " in-order" : "");
		}
	return test_summary();
}

int
main(void)
{
	/* Before anything built for the instruction set runs. */
	if (!cpu_has_isa()) {
		printf("%s: not on this CPU, skipped\n", TEST_VEC_ISA);
		return 77;
	}
	return run_all();
}
