/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The Vireo Authors
 */

/*
 * A device that lies: bad used entries written straight into ring
 * memory must each be caught with their own code, counted, break the
 * vq, and leave ring memory and the slot table as they were. Then the
 * device role against a driver that lies (bad chains), and random ring
 * memory fed to the reclaim functions.
 */

#include "vring_test.h"

enum lie {
	LIE_ID_RANGE,		/* id >= size */
	LIE_ID_FREE,		/* id in range, never posted */
	LIE_LEN,		/* len > posted writable length */
	LIE_FLAGS_USED_ONLY,	/* packed: USED without AVAIL in phase 1 */
	LIE_FLAGS_OLD_PHASE,	/* packed: used bits of the wrong phase */
	LIE_IDX_FAR,		/* split: used->idx past what is in flight */
	LIE_IDX_BACK,		/* split: used->idx moved backwards */
	LIE_ORDER,		/* in-order: batch id beyond what is published */
	LIE_COUNT
};

static const struct {
	const char *name;
	int code;
	int layouts;		/* bit 0 split, bit 1 packed */
} lies[LIE_COUNT] = {
	[LIE_ID_RANGE] = { "id out of range", VIREO_VQ_EBADID, 3 },
	[LIE_ID_FREE] = { "id not posted", VIREO_VQ_ENOTPOSTED, 3 },
	[LIE_LEN] = { "len beyond posted", VIREO_VQ_EBADLEN, 3 },
	[LIE_FLAGS_USED_ONLY] = { "flags USED without AVAIL", VIREO_VQ_EBADFLAGS, 2 },
	[LIE_FLAGS_OLD_PHASE] = { "flags of the old phase", VIREO_VQ_EBADFLAGS, 2 },
	[LIE_IDX_FAR] = { "used idx too far", VIREO_VQ_EBADIDX, 1 },
	[LIE_IDX_BACK] = { "used idx backwards", VIREO_VQ_EBADIDX, 1 },
	[LIE_ORDER] = { "in-order id out of sequence", VIREO_VQ_EORDER, 3 },
};

/* Writes one used entry at the next used position, as a device would. */
static void
write_used(struct test_pair *p, uint32_t id, uint32_t len, uint16_t flags,
	   uint16_t used_idx)
{
	if (p->vq.layout == VIREO_VQ_SPLIT) {
		p->vq.split.ring.used->ring[0].id = id;
		p->vq.split.ring.used->ring[0].len = len;
		p->vq.split.ring.used->idx = used_idx;
		return;
	}
	p->vq.packed.ring.desc[0].id = id;
	p->vq.packed.ring.desc[0].len = len;
	p->vq.packed.ring.desc[0].flags = flags;
}

static int
one_lie(enum vireo_vq_layout layout, enum lie lie, bool burst)
{
	const uint16_t size = 8, used_bits = VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED;
	uint8_t ring_before[4096], slots_before[sizeof(struct vireo_vq_slot) * 8];
	uint8_t tx[16];
	struct test_pair p;
	void *cookies[4] = { NULL };
	uint32_t lens[4] = { 0 };
	uint16_t nfree;
	int rc;

	test_dev_forget();
	if (test_pair_init(&p, layout, size,
			   lie == LIE_ORDER ? VIREO_VQ_OPT_IN_ORDER : 0) != 0)
		return -1;
	/* one Rx buffer (64 writable bytes) published, first slot/id 0 */
	CHECK_EQ(test_add(&p, 1, false), 0);
	if (lie == LIE_ORDER) {
		CHECK_EQ(test_add(&p, 1, true), 0);	/* ids 0, 1 published */
		CHECK_EQ(test_add(&p, 1, false), 0);	/* id 2 staged only */
	} else {
		vireo_vq_publish(&p.vq);
	}
	switch (lie) {
	case LIE_ID_RANGE:
		write_used(&p, layout == VIREO_VQ_SPLIT ? 0x10000 : size, 0,
			   used_bits, 1);
		break;
	case LIE_ID_FREE:
		write_used(&p, 5, 0, used_bits, 1);
		break;
	case LIE_LEN:
		write_used(&p, 0, 65, used_bits, 1);
		break;
	case LIE_FLAGS_USED_ONLY:
		write_used(&p, 0, 0, VIRTQ_DESC_F_USED, 0);
		break;
	case LIE_FLAGS_OLD_PHASE:
		write_used(&p, 0, 0, 0, 0);
		break;
	case LIE_IDX_FAR:
		write_used(&p, 0, 0, 0, 2);
		break;
	case LIE_IDX_BACK:
		write_used(&p, 0, 0, 0, 0xffff);
		break;
	case LIE_ORDER:
		/* a batch ending at id 2, which is not published (split:
		 * and used->idx says only one buffer is done) */
		write_used(&p, 2, 0, used_bits, 1);
		break;
	default:
		return -1;
	}
	memcpy(ring_before, p.ring, p.areas.total);
	memcpy(slots_before, p.slots, sizeof(slots_before));
	nfree = vireo_vq_nfree(&p.vq);
	rc = burst ? vireo_vq_get_used_burst(&p.vq, cookies, lens, 4) :
		vireo_vq_get_used(&p.vq, cookies, lens);
	CHECK_EQ(rc, lies[lie].code);
	CHECK(p.vq.broken);
	CHECK_EQ(p.vq.broken_reason, lies[lie].code);
	CHECK_EQ(p.vq.err_count[-lies[lie].code], 1);
	CHECK(cookies[0] == NULL);
	CHECK(memcmp(ring_before, p.ring, p.areas.total) == 0);
	CHECK(memcmp(slots_before, p.slots, sizeof(slots_before)) == 0);
	CHECK_EQ(vireo_vq_nfree(&p.vq), nfree);
	/* from now on everything refuses, and nothing is counted twice */
	CHECK_EQ(vireo_vq_get_used(&p.vq, cookies, lens), VIREO_VQ_EBROKEN);
	CHECK_EQ(vireo_vq_get_used_burst(&p.vq, cookies, lens, 4),
		 VIREO_VQ_EBROKEN);
	CHECK_EQ(vireo_vq_add_in1(&p.vq, 0x1000, 64, tx), VIREO_VQ_EBROKEN);
	CHECK_EQ(vireo_vq_add_out1(&p.vq, 0x1000, 64, tx), VIREO_VQ_EBROKEN);
	CHECK_EQ(vireo_vq_add(&p.vq, &(struct vireo_buf){ 0x1000, 4 }, 1, 0, tx),
		 VIREO_VQ_EBROKEN);
	CHECK_EQ(vireo_vq_kick_prepare(&p.vq), VIREO_VQ_EBROKEN);
	CHECK_EQ(vireo_vq_enable_cb(&p.vq), VIREO_VQ_EBROKEN);
	CHECK_EQ(vireo_vq_disable_cb(&p.vq), VIREO_VQ_EBROKEN);
	CHECK_EQ(p.vq.err_count[-lies[lie].code], 1);
	CHECK(strcmp(vireo_vq_strerror(rc), "unknown error") != 0);
	/* teardown still hands back what is outstanding, then resets */
	while (vireo_vq_detach_unused(&p.vq) != NULL)
		;
	CHECK(!p.vq.broken);
	CHECK_EQ(vireo_vq_nfree(&p.vq), size);
	test_pair_fini(&p);
	return 0;
}

/*
 * Not a lie: a length on a chain with nothing writable. Some devices
 * report the chain's total there; it is dropped (reported as 0), the
 * vq stays healthy.
 */
static int
len_on_readonly(enum vireo_vq_layout layout)
{
	const uint16_t used_bits = VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED;
	struct test_pair p;
	uint8_t tx[16];
	void *cookie;
	uint32_t len;

	if (test_pair_open(&p, layout, 8, 0) != 0)
		return -1;
	CHECK_EQ(vireo_vq_next_id(&p.vq), 0);
	CHECK_EQ(vireo_vq_add_out1(&p.vq, (uintptr_t)tx, 16, tx), 0);
	CHECK_EQ(vireo_vq_next_id(&p.vq), 1);
	vireo_vq_publish(&p.vq);
	write_used(&p, 0, 16, used_bits, 1);
	CHECK_EQ(vireo_vq_get_used(&p.vq, &cookie, &len), 1);
	CHECK(cookie == tx);
	CHECK_EQ(len, 0);
	CHECK(!p.vq.broken);
	CHECK_EQ(vireo_vq_nfree(&p.vq), 8);
	test_pair_fini(&p);
	return 0;
}

/* ---- device role against a lying driver ---- */

static void *
refuse_map(void *ctx, uint64_t addr, uint32_t len)
{
	(void)ctx;
	(void)addr;
	(void)len;
	return NULL;
}

static int
dev_lie(enum vireo_vq_layout layout, int which)
{
	union {
		struct vireo_split_desc s[4];
		struct vireo_packed_desc p[4];
	} table __attribute__((aligned(16)));
	struct vireo_split_desc *itable = table.s;
	struct vireo_packed_desc *pd;
	struct vireo_split_desc *sd;
	struct vireo_vq_dev_chain c;
	struct vireo_buf bufs[3] = { { 0x1000, 8 }, { 0x2000, 8 }, { 0x3000, 8 } };
	struct vireo_seg segs[4];
	struct test_pair p;
	int expect = VIREO_VQ_EBADCHAIN;
	int rc;

	memset(&table, 0, sizeof(table));
	if (test_pair_init(&p, layout, 4, 0) != 0)
		return -1;
	CHECK_EQ(vireo_vq_add(&p.vq, bufs, 1, 2, bufs), 0);
	vireo_vq_publish(&p.vq);
	sd = &p.vq.split.ring.desc[0];
	pd = &p.vq.packed.ring.desc[0];
	switch (which) {
	case 0:	/* a loop / a chain wider than the ring */
		if (layout == VIREO_VQ_SPLIT) {
			sd[2].flags |= VIRTQ_DESC_F_NEXT;
			sd[2].next = 0;
		} else {
			pd[2].flags |= VIRTQ_DESC_F_NEXT;
			pd[3].flags = VIRTQ_DESC_F_NEXT;
		}
		break;
	case 1:	/* next out of the table (split) / indirect with NEXT */
		if (layout == VIREO_VQ_SPLIT)
			sd[1].next = 9;
		else
			pd[0].flags |= VIRTQ_DESC_F_INDIRECT;
		break;
	case 2:	/* indirect table of a length that is not whole entries */
		if (layout == VIREO_VQ_SPLIT) {
			sd[0] = (struct vireo_split_desc){ (uintptr_t)itable, 20,
				VIRTQ_DESC_F_INDIRECT, 0 };
		} else {
			pd[0].addr = (uintptr_t)itable;
			pd[0].len = 20;
			pd[0].flags = (pd[0].flags & ~VIRTQ_DESC_F_NEXT) |
				VIRTQ_DESC_F_INDIRECT;
		}
		break;
	case 3:	/* nested indirect */
		itable[0].flags = VIRTQ_DESC_F_INDIRECT;
		table.p[0].flags = VIRTQ_DESC_F_INDIRECT;
		if (layout == VIREO_VQ_SPLIT) {
			sd[0] = (struct vireo_split_desc){ (uintptr_t)itable, 64,
				VIRTQ_DESC_F_INDIRECT, 0 };
		} else {
			pd[0].addr = (uintptr_t)itable;
			pd[0].len = 64;
			pd[0].flags = (pd[0].flags & ~VIRTQ_DESC_F_NEXT) |
				VIRTQ_DESC_F_INDIRECT;
		}
		break;
	case 4:	/* segment array too small */
		expect = VIREO_VQ_ESEGS;
		break;
	case 5:	/* the map callback refuses the table */
		expect = VIREO_VQ_EBADADDR;
		p.dev.map = refuse_map;
		if (layout == VIREO_VQ_SPLIT) {
			sd[0] = (struct vireo_split_desc){ 0x5000, 32,
				VIRTQ_DESC_F_INDIRECT, 0 };
		} else {
			pd[0].addr = 0x5000;
			pd[0].len = 32;
			pd[0].flags = (pd[0].flags & ~VIRTQ_DESC_F_NEXT) |
				VIRTQ_DESC_F_INDIRECT;
		}
		break;
	case 6:	/* split: avail idx jumps over the ring / head out of range */
		expect = VIREO_VQ_EBADAVAIL;
		p.vq.split.ring.avail->idx = 9;
		break;
	case 7:
		expect = VIREO_VQ_EBADAVAIL;
		p.vq.split.ring.avail->ring[0] = 4;
		break;
	case 8:	/* split indirect table whose entries loop */
		itable[0] = (struct vireo_split_desc){ 0x1000, 8,
			VIRTQ_DESC_F_NEXT, 1 };
		itable[1] = (struct vireo_split_desc){ 0x1000, 8,
			VIRTQ_DESC_F_NEXT, 0 };
		sd[0] = (struct vireo_split_desc){ (uintptr_t)itable, 32,
			VIRTQ_DESC_F_INDIRECT, 0 };
		break;
	case 9:	/* split indirect next out of the table */
		itable[0] = (struct vireo_split_desc){ 0x1000, 8,
			VIRTQ_DESC_F_NEXT, 7 };
		sd[0] = (struct vireo_split_desc){ (uintptr_t)itable, 32,
			VIRTQ_DESC_F_INDIRECT, 0 };
		break;
	}
	rc = vireo_vq_dev_pop(&p.dev, &c, segs, which == 4 ? 2 : 4);
	CHECK_EQ(rc, expect);
	test_pair_fini(&p);
	return 0;
}

/*
 * A driver may put an indirect table at any address: the device role
 * reads an unaligned one entry by entry (a copy each), never with
 * misaligned loads (UBSan would report them in the sanitized build).
 */
static int
dev_unaligned_indirect(enum vireo_vq_layout layout)
{
	uint8_t mem[16 * 3 + 16] __attribute__((aligned(16)));
	uint8_t *at = mem + 3;	/* as unaligned as it gets */
	struct vireo_split_desc sd[2] = {
		{ 0x1000, 8, VIRTQ_DESC_F_NEXT, 1 },
		{ 0x2000, 16, VIRTQ_DESC_F_WRITE, 0 },
	};
	struct vireo_packed_desc pd[2] = {
		{ 0x1000, 8, 0, 0 },
		{ 0x2000, 16, 0, VIRTQ_DESC_F_WRITE },
	};
	struct vireo_vq_dev_chain c;
	struct vireo_seg segs[4];
	struct test_pair p;

	if (layout == VIREO_VQ_SPLIT)
		memcpy(at, sd, sizeof(sd));
	else
		memcpy(at, pd, sizeof(pd));
	if (test_pair_init(&p, layout, 4, 0) != 0)
		return -1;
	CHECK_EQ(vireo_vq_add_out1(&p.vq, (uintptr_t)at, 32, mem), 0);
	vireo_vq_publish(&p.vq);
	/* the one descriptor posted becomes an indirect one */
	if (layout == VIREO_VQ_SPLIT)
		p.vq.split.ring.desc[0].flags = VIRTQ_DESC_F_INDIRECT;
	else
		p.vq.packed.ring.desc[0].flags |= VIRTQ_DESC_F_INDIRECT;
	CHECK_EQ(vireo_vq_dev_pop(&p.dev, &c, segs, 4), 1);
	CHECK_EQ(c.nsegs, 2);
	CHECK_EQ(segs[0].addr, 0x1000);
	CHECK_EQ(segs[0].len, 8);
	CHECK(!segs[0].write);
	CHECK_EQ(segs[1].addr, 0x2000);
	CHECK_EQ(segs[1].len, 16);
	CHECK(segs[1].write);
	test_pair_fini(&p);
	return 0;
}

/*
 * A burst that returns good buffers, then meets a bad entry: the vq
 * breaks, that call returns the good ones, later calls VIREO_VQ_EBROKEN;
 * vireo_vq_break_news tells the code once per break, and again after a
 * reset and a new break.
 */
static int
break_news_once(enum vireo_vq_layout layout, uint32_t options)
{
	const uint16_t used_bits = VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED;
	void *cookies[4];
	uint32_t lens[4];
	struct test_pair p;
	int round, rc;

	test_dev_forget();
	if (test_pair_init(&p, layout, 8, options) != 0)
		return -1;
	for (round = 0; round < 2; round++) {
		CHECK_EQ(vireo_vq_break_news(&p.vq), 0);
		CHECK_EQ(test_add(&p, 2, true), 0);
		CHECK_EQ(test_dev_pop(&p, 1), 0);
		CHECK_EQ(test_dev_push(&p, 1, true), 0);
		/* a second used entry naming an id out of range */
		if (layout == VIREO_VQ_SPLIT) {
			struct vireo_split_used *u = p.vq.split.ring.used;

			u->ring[(p.vq.last_used + 1) & 7].id = 99;
			u->ring[(p.vq.last_used + 1) & 7].len = 0;
			u->idx = p.vq.last_used + 2;
		} else {
			struct vireo_packed_desc *d =
				&p.vq.packed.ring.desc[p.vq.last_used + 1];

			d->id = 99;
			d->len = 0;
			d->flags = p.vq.used_wrap_counter ? used_bits : 0;
		}
		CHECK_EQ(vireo_vq_get_used_burst(&p.vq, cookies, lens, 4), 1);
		/* broken by that call (in order) or by the next, which
		 * then says why: either way the code can be lost */
		rc = vireo_vq_get_used_burst(&p.vq, cookies, lens, 4);
		CHECK(rc == VIREO_VQ_EBADID || rc == VIREO_VQ_EBROKEN);
		CHECK(p.vq.broken);
		CHECK_EQ(vireo_vq_get_used_burst(&p.vq, cookies, lens, 4),
			 VIREO_VQ_EBROKEN);
		CHECK_EQ(vireo_vq_break_news(&p.vq), VIREO_VQ_EBADID);
		CHECK_EQ(vireo_vq_break_news(&p.vq), 0);
		CHECK_EQ(p.vq.err_count[-VIREO_VQ_EBADID], round + 1);
		while (vireo_vq_detach_unused(&p.vq) != NULL)
			;
		test_dev_forget();
		vireo_vq_dev_init(&p.dev, layout, 8, options, p.ring, NULL,
				  NULL);
	}
	test_pair_fini(&p);
	return 0;
}

/* ---- random device memory ---- */

static int
fuzz(enum vireo_vq_layout layout, uint16_t size, uint32_t options,
     uint64_t seed)
{
	uint8_t owned[256] = { 0 };	/* 1 while we think it is posted */
	uint8_t cookies_mem[256];
	void *cookies[8];
	uint32_t lens[8];
	struct test_pair p;
	uint64_t rng = seed;
	unsigned int iter, i, k, got = 0, breaks = 0;
	int rc;

	if (test_pair_init(&p, layout, size, options) != 0)
		return -1;
	for (iter = 0; iter < 3000; iter++) {
		if (p.vq.broken) {
			breaks++;
			while ((cookies[0] = vireo_vq_detach_unused(&p.vq)) != NULL) {
				CHECK_EQ(owned[(uint8_t *)cookies[0] - cookies_mem], 1);
				owned[(uint8_t *)cookies[0] - cookies_mem] = 0;
			}
			for (i = 0; i < 256; i++)
				CHECK_EQ(owned[i], 0);
		}
		for (k = test_rand_below(&rng, 4); k > 0; k--) {
			i = test_rand_below(&rng, 256);
			if (owned[i])
				continue;
			if (vireo_vq_add_in1(&p.vq, 0x1000, 64, &cookies_mem[i]) == 0)
				owned[i] = 1;
		}
		vireo_vq_publish(&p.vq);
		/* the device scribbles over a few random bytes of the ring */
		for (k = test_rand_below(&rng, 6); k > 0; k--)
			((uint8_t *)p.ring)[test_rand_below(&rng, p.areas.total)] =
				(uint8_t)test_rand(&rng);
		/* or writes a plausible used entry with random id, len and
		 * phase where the driver will look */
		if (test_rand_below(&rng, 2)) {
			uint32_t id = test_rand_below(&rng, size + 2);
			uint32_t len = test_rand_below(&rng, 80);

			if (layout == VIREO_VQ_SPLIT) {
				struct vireo_split_used *u = p.vq.split.ring.used;

				u->ring[u->idx & (size - 1)].id = id;
				u->ring[u->idx & (size - 1)].len = len;
				u->idx += test_rand_below(&rng, 8) ? 1 :
					test_rand_below(&rng, 4);
			} else {
				struct vireo_packed_desc *d =
					&p.vq.packed.ring.desc[p.vq.last_used];

				d->id = id;
				d->len = len;
				d->flags = test_rand_below(&rng, 4) ?
					(p.vq.used_wrap_counter ? 0x8080 : 0) :
					(uint16_t)test_rand(&rng);
			}
		}
		rc = test_rand_below(&rng, 2) ?
			vireo_vq_get_used(&p.vq, cookies, lens) :
			vireo_vq_get_used_burst(&p.vq, cookies, lens, 8);
		CHECK(rc <= 8);
		for (k = 0; rc > 0 && k < (unsigned int)rc; k++) {
			i = (uint8_t *)cookies[k] - cookies_mem;
			CHECK(i < 256);
			CHECK_EQ(owned[i], 1);	/* never twice, never foreign */
			CHECK(lens[k] <= 64);
			owned[i] = 0;
			got++;
		}
		CHECK(vireo_vq_nfree(&p.vq) <= size);
		(void)vireo_vq_kick_prepare(&p.vq);
		(void)vireo_vq_enable_cb(&p.vq);
	}
	/* the run must have exercised both outcomes */
	CHECK(got > 20 && breaks > 20);
	test_pair_fini(&p);
	return 0;
}

int
main(void)
{
	static const char *const dev_lie_names[] = {
		"chain loops", "chain leaves the table / indirect with next",
		"indirect length", "nested indirect", "too many segments",
		"unmapped indirect table", "avail idx jump", "avail head range",
		"indirect entries loop", "indirect next out of table",
	};
	enum vireo_vq_layout l;
	unsigned int lie, k;
	uint64_t seed;

	for (l = VIREO_VQ_SPLIT; l <= VIREO_VQ_PACKED; l++)
		for (lie = 0; lie < LIE_COUNT; lie++) {
			if (!(lies[lie].layouts & (1 << l)))
				continue;
			test_report(one_lie(l, lie, false), "%s driver: %s",
				    test_layout_name(l), lies[lie].name);
			test_report(one_lie(l, lie, true), "%s driver (burst): %s",
				    test_layout_name(l), lies[lie].name);
		}
	for (l = VIREO_VQ_SPLIT; l <= VIREO_VQ_PACKED; l++)
		test_report(len_on_readonly(l), "%s driver: len on a read-only "
			    "chain is dropped", test_layout_name(l));
	for (l = VIREO_VQ_SPLIT; l <= VIREO_VQ_PACKED; l++)
		for (k = 0; k < 10; k++) {
			if (l == VIREO_VQ_PACKED && k >= 6)
				continue;	/* split-only shapes */
			test_report(dev_lie(l, k), "%s device: %s",
				    test_layout_name(l), dev_lie_names[k]);
		}
	for (l = VIREO_VQ_SPLIT; l <= VIREO_VQ_PACKED; l++) {
		test_report(dev_unaligned_indirect(l), "%s device: unaligned "
			    "indirect table", test_layout_name(l));
		test_report(break_news_once(l, 0), "%s driver: a break is "
			    "told once, after a burst cut short",
			    test_layout_name(l));
		test_report(break_news_once(l, VIREO_VQ_OPT_IN_ORDER), "%s "
			    "in-order driver: a break is told once, after a "
			    "burst cut short", test_layout_name(l));
	}
	for (l = VIREO_VQ_SPLIT; l <= VIREO_VQ_PACKED; l++)
		for (k = 0; k < 4; k++) {
			seed = 0xf022ull + k * 7919 + l;
			if (test_report(fuzz(l, 16, k == 3 ? VIREO_VQ_OPT_IN_ORDER : 0,
					     seed), "%s random ring memory #%u",
					test_layout_name(l), k) != 0)
				fprintf(stderr, "  seed 0x%" PRIx64 "\n", seed);
		}
	return test_summary();
}
