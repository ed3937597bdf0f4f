/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The Vireo Authors
 */

/*
 * The API around the data path: sizes and areas, init checks, add
 * errors, indirect registration, restore at a saved base, teardown,
 * reset, error strings, accessors, and the dump text of a known state.
 */

#include "vring_test.h"

static int
areas(void)
{
	struct vireo_vq_areas a;

	CHECK_EQ(vireo_vq_areas(VIREO_VQ_SPLIT, 256, &a), 0);
	CHECK_EQ(a.desc, 0);
	CHECK_EQ(a.driver, 4096);		/* 16 * 256 */
	CHECK_EQ(a.device, 4616);		/* 4096 + 4 + 512 + 2, align 4 */
	CHECK_EQ(a.total, 6672);		/* + 4 + 2048 + 2, align 16 */
	CHECK_EQ(a.align, 16);
	CHECK_EQ(vireo_vq_areas(VIREO_VQ_SPLIT, 1, &a), 0);
	CHECK_EQ(a.device, 24);			/* 16 + 4 + 2 + 2 */
	CHECK_EQ(vireo_vq_areas(VIREO_VQ_PACKED, 3, &a), 0);
	CHECK_EQ(a.driver, 48);
	CHECK_EQ(a.device, 52);
	CHECK_EQ(a.total, 64);
	CHECK_EQ(vireo_vq_areas(VIREO_VQ_PACKED, 32768, &a), 0);
	CHECK_EQ(a.device, 524292);
	CHECK_EQ(vireo_vq_areas(VIREO_VQ_SPLIT, 3, &a), VIREO_VQ_EINVAL);
	CHECK_EQ(vireo_vq_areas(VIREO_VQ_SPLIT, 0, &a), VIREO_VQ_EINVAL);
	CHECK_EQ(vireo_vq_areas(VIREO_VQ_SPLIT, 65536, &a), VIREO_VQ_EINVAL);
	CHECK_EQ(vireo_vq_areas(VIREO_VQ_PACKED, 32769, &a), VIREO_VQ_EINVAL);
	CHECK_EQ(vireo_vq_areas((enum vireo_vq_layout)7, 8, &a), VIREO_VQ_EINVAL);
	CHECK_EQ(vireo_vq_slots_size(100), 100 * (sizeof(struct vireo_vq_slot) +
						 sizeof(struct vireo_vq_indirect) +
						 sizeof(uint16_t)));
	return 0;
}

static int
init_checks(void)
{
	/* The slot table, the indirect table array, the free id stack. */
	uint64_t slots[8 * (sizeof(struct vireo_vq_slot) +
			    sizeof(struct vireo_vq_indirect) +
			    sizeof(uint16_t)) / sizeof(uint64_t)];
	uint8_t ring[512] __attribute__((aligned(16)));
	struct vireo_vq_config cfg = { VIREO_VQ_PACKED, 8, 0, ring, 0x10000,
				       (struct vireo_vq_slot *)slots };
	uint64_t desc, driver, device;
	struct vireo_vq vq;

	CHECK_EQ(sizeof(slots), vireo_vq_slots_size(8));
	CHECK_EQ(vireo_vq_init(&vq, &cfg), 0);
	vireo_vq_addresses(&vq, &desc, &driver, &device);
	CHECK_EQ(desc, 0x10000);
	CHECK_EQ(driver, 0x10000 + 128);
	CHECK_EQ(device, 0x10000 + 132);
	cfg.ring = ring + 4;
	CHECK_EQ(vireo_vq_init(&vq, &cfg), VIREO_VQ_EINVAL);	/* misaligned */
	cfg.ring = ring;
	cfg.options = 1u << 5;
	CHECK_EQ(vireo_vq_init(&vq, &cfg), VIREO_VQ_EINVAL);	/* unknown option */
	cfg.options = 0;
	cfg.slots = NULL;
	CHECK_EQ(vireo_vq_init(&vq, &cfg), VIREO_VQ_EINVAL);
	cfg.slots = (struct vireo_vq_slot *)slots;
	cfg.layout = VIREO_VQ_SPLIT;
	cfg.size = 6;
	CHECK_EQ(vireo_vq_init(&vq, &cfg), VIREO_VQ_EINVAL);	/* not 2^n */
	CHECK_EQ(vireo_vq_init(NULL, &cfg), VIREO_VQ_EINVAL);
	return 0;
}

static int
add_errors(enum vireo_vq_layout layout)
{
	struct vireo_buf bufs[10];
	struct test_pair p;
	unsigned int i;
	int x;

	for (i = 0; i < 10; i++)
		bufs[i] = (struct vireo_buf){ 0x1000 * (i + 1), 100 };
	if (test_pair_init(&p, layout, 8, 0) != 0)
		return -1;
	CHECK_EQ(vireo_vq_add(&p.vq, bufs, 1, 1, NULL), VIREO_VQ_EINVAL);
	CHECK_EQ(vireo_vq_add_in1(&p.vq, 0x1000, 1, NULL), VIREO_VQ_EINVAL);
	CHECK_EQ(vireo_vq_add(&p.vq, bufs, 0, 0, &x), VIREO_VQ_EINVAL);
	CHECK_EQ(vireo_vq_add(&p.vq, bufs, 5, 5, &x), VIREO_VQ_EINVAL);	/* > size */
	CHECK_EQ(vireo_vq_add_indirect(&p.vq, bufs, 1, 1, &x),
		 VIREO_VQ_ENOINDIRECT);	/* not negotiated */
	CHECK_EQ(vireo_vq_add(&p.vq, bufs, 3, 3, &x), 0);
	CHECK_EQ(vireo_vq_nfree(&p.vq), 2);
	CHECK_EQ(vireo_vq_add(&p.vq, bufs, 2, 1, &x), VIREO_VQ_EFULL);
	CHECK_EQ(vireo_vq_add(&p.vq, bufs, 1, 1, &x), 0);
	CHECK_EQ(vireo_vq_add_out1(&p.vq, 0x1000, 1, &x), VIREO_VQ_EFULL);
	CHECK_EQ(vireo_vq_add_in1(&p.vq, 0x1000, 1, &x), VIREO_VQ_EFULL);
	CHECK_EQ(p.vq.staged_bufs, 2);
	CHECK(!p.vq.broken);
	test_pair_fini(&p);
	/* indirect: registration and limits */
	if (test_pair_init(&p, layout, 8, VIREO_VQ_OPT_INDIRECT) != 0)
		return -1;
	CHECK_EQ(vireo_vq_add_indirect(&p.vq, bufs, 5, 4, &x),
		 VIREO_VQ_ENOINDIRECT);	/* table holds 8 */
	CHECK_EQ(vireo_vq_set_indirect(&p.vq, 8, p.indirect, 0, 8),
		 VIREO_VQ_EINVAL);
	CHECK_EQ(vireo_vq_set_indirect(&p.vq, 0, p.indirect + 4, 0, 8),
		 VIREO_VQ_EINVAL);	/* misaligned */
	CHECK_EQ(vireo_vq_set_indirect(&p.vq, 0, NULL, 0, 0), 0);
	CHECK_EQ(vireo_vq_add_indirect(&p.vq, bufs, 1, 1, &x),
		 VIREO_VQ_ENOINDIRECT);	/* slot 0 has no table now */
	CHECK_EQ(vireo_vq_add_indirect(&p.vq, bufs, 0, 0, &x),
		 VIREO_VQ_ENOINDIRECT);
	CHECK_EQ(vireo_vq_add_out1(&p.vq, 0x1000, 1, &x), 0);	/* takes slot 0 */
	CHECK_EQ(vireo_vq_add_indirect(&p.vq, bufs, 0, 0, &x), VIREO_VQ_EINVAL);
	CHECK_EQ(vireo_vq_add_indirect(&p.vq, bufs, 4, 4, &x), 0);
	CHECK_EQ(vireo_vq_nfree(&p.vq), 6);
	test_pair_fini(&p);
	return 0;
}

/* Restore at a saved base: both sides resume there and traffic flows
 * across the 16-bit index wrap (split) or the ring wrap (packed). */
static int
restore(enum vireo_vq_layout layout, uint32_t base, uint32_t after)
{
	struct test_pair p;
	unsigned int i;

	test_dev_forget();
	if (test_pair_init(&p, layout, 8, 0) != 0)
		return -1;
	CHECK_EQ(vireo_vq_set_base(&p.vq, base), 0);
	CHECK_EQ(vireo_vq_dev_set_base(&p.dev, base), 0);
	CHECK_EQ(vireo_vq_get_base(&p.vq), base);
	for (i = 0; i < 3; i++) {
		CHECK_EQ(test_add(&p, 2, true), 0);
		CHECK_EQ(test_dev_pop(&p, 2), 0);
		CHECK_EQ(test_dev_push(&p, 2, true), 0);
		CHECK_EQ(test_reclaim(&p, 2), 0);
	}
	CHECK_EQ(vireo_vq_get_base(&p.vq), after);
	CHECK_EQ(vireo_vq_dev_get_base(&p.dev), after);
	/* not on a busy ring */
	CHECK_EQ(test_add(&p, 1, false), 0);
	CHECK_EQ(vireo_vq_set_base(&p.vq, base), VIREO_VQ_EINVAL);
	test_pair_fini(&p);
	return 0;
}

/*
 * A device dies mid-publish: of the 6 buffers it took it completed 4,
 * in two batches of two (one used slot per batch in order, one per
 * buffer otherwise), and stored every flag but the first slot's.  A
 * new device resumes where vireo_vq_resume_base says and completes
 * the rest: the driver gets all 6, in order, once each, and the ring
 * carries on.  Starts at slot 'start' so the packed walk crosses the
 * wrap.  Split: the used index was never published, the new device
 * redoes all 6.
 */
static int
handover(enum vireo_vq_layout layout, bool in_order, uint16_t start)
{
	uint32_t options = in_order ? VIREO_VQ_OPT_IN_ORDER : 0;
	uint16_t ids[6], ndesc[6];
	int cookies[6], more[8];
	struct test_pair p;
	uint32_t base, len;
	unsigned int i, redo;
	void *c;

	if (test_pair_open(&p, layout, 8, options) != 0)
		return -1;
	base = (uint32_t)start << 16 | start;
	if (layout == VIREO_VQ_PACKED)
		base |= 1u << 31 | 1u << VIRTQ_EVENT_WRAP_SHIFT;
	CHECK_EQ(vireo_vq_set_base(&p.vq, base), 0);
	CHECK_EQ(vireo_vq_dev_set_base(&p.dev, base), 0);
	for (i = 0; i < 6; i++)
		CHECK_EQ(vireo_vq_add_in1(&p.vq, 0x1000 * (i + 1), 64,
					  &cookies[i]), 0);
	vireo_vq_publish(&p.vq);
	CHECK_EQ(test_dev_pop(&p, 6), 0);
	for (i = 0; i < 6; i++) {
		ids[i] = test_popped_ids[i];
		ndesc[i] = test_popped_ndesc[i];
	}
	for (i = 0; i < 4; i += 2) {
		if (in_order) {
			CHECK_EQ(vireo_vq_dev_push_batch(&p.dev, ids[i + 1], 64,
				 ndesc[i] + ndesc[i + 1], 2), 0);
		} else {
			CHECK_EQ(vireo_vq_dev_push(&p.dev, ids[i], 64,
						   ndesc[i]), 0);
			CHECK_EQ(vireo_vq_dev_push(&p.dev, ids[i + 1], 64,
						   ndesc[i + 1]), 0);
		}
	}
	/* no publish: the first used slot still has our flags */
	CHECK_EQ(vireo_vq_get_used(&p.vq, &c, &len), 0);

	base = vireo_vq_resume_base(&p.vq);
	redo = layout == VIREO_VQ_PACKED ? 2 : 6;
	if (layout == VIREO_VQ_PACKED)
		CHECK_EQ(base, ((start + 4) % 8) |
			 (start + 4 < 8) << VIRTQ_EVENT_WRAP_SHIFT);
	else
		CHECK_EQ(base, start);
	test_dev_forget();
	CHECK_EQ(vireo_vq_dev_init(&p.dev, layout, 8, options, p.ring, NULL,
				   NULL), 0);
	CHECK_EQ(vireo_vq_dev_set_base(&p.dev, base << 16 | base), 0);
	CHECK_EQ(test_dev_pop(&p, redo), 0);
	CHECK_EQ(test_dev_push(&p, redo, true), 0);
	for (i = 0; i < 6; i++) {
		CHECK_EQ(vireo_vq_get_used(&p.vq, &c, &len), 1);
		CHECK(c == &cookies[i]);
	}
	CHECK_EQ(vireo_vq_get_used(&p.vq, &c, &len), 0);
	CHECK(!p.vq.broken);
	/* and the ring carries on, a full lap */
	for (i = 0; i < 8; i++)
		CHECK_EQ(vireo_vq_add_in1(&p.vq, 0x1000, 64, &more[i]), 0);
	vireo_vq_publish(&p.vq);
	CHECK_EQ(test_dev_pop(&p, 8), 0);
	CHECK_EQ(test_dev_push(&p, 8, true), 0);
	for (i = 0; i < 8; i++) {
		CHECK_EQ(vireo_vq_get_used(&p.vq, &c, &len), 1);
		CHECK(c == &more[i]);
	}
	CHECK_EQ(p.vq.in_flight, 0);
	test_pair_fini(&p);
	return 0;
}

/* The resume point walks only what was published and never past what
 * is outstanding: a used-looking slot beyond them is stale. */
static int
handover_bounds(void)
{
	struct test_pair p;
	int cookies[3];
	unsigned int i;

	if (test_pair_open(&p, VIREO_VQ_PACKED, 8, 0) != 0)
		return -1;
	for (i = 0; i < 3; i++)
		CHECK_EQ(vireo_vq_add_in1(&p.vq, 0x1000, 64, &cookies[i]), 0);
	vireo_vq_publish(&p.vq);
	/* slot 5, never published, looks used in this phase */
	p.vq.packed.ring.desc[5].flags = VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED;
	CHECK_EQ(vireo_vq_resume_base(&p.vq), 0 | 1u << VIRTQ_EVENT_WRAP_SHIFT);
	CHECK_EQ(p.vq.packed.ring.desc[0].flags & VIRTQ_DESC_F_USED, 0);
	/* one completed and published, then the device stopped */
	CHECK_EQ(test_dev_pop(&p, 1), 0);
	CHECK_EQ(test_dev_push(&p, 1, true), 0);
	CHECK_EQ(vireo_vq_resume_base(&p.vq), 1 | 1u << VIRTQ_EVENT_WRAP_SHIFT);
	test_pair_fini(&p);
	return 0;
}

static int
restore_checks(void)
{
	struct test_pair p;

	if (test_pair_init(&p, VIREO_VQ_PACKED, 8, 0) != 0)
		return -1;
	CHECK_EQ(vireo_vq_set_base(&p.vq, 0x00010002), VIREO_VQ_EINVAL);
	CHECK_EQ(vireo_vq_set_base(&p.vq, 0x00090009), VIREO_VQ_EINVAL);
	CHECK_EQ(vireo_vq_dev_set_base(&p.dev, 0x00090009), VIREO_VQ_EINVAL);
	CHECK_EQ(vireo_vq_set_base(&p.vq, 0x00050005), 0);
	CHECK_EQ(vireo_vq_next_avail(&p.vq), 5);
	CHECK_EQ(vireo_vq_avail_wrap_counter(&p.vq), false);
	CHECK_EQ(vireo_vq_last_used(&p.vq), 5);
	CHECK_EQ(vireo_vq_used_wrap_counter(&p.vq), false);
	test_pair_fini(&p);
	return 0;
}

static int
teardown(enum vireo_vq_layout layout)
{
	int cookies[5], seen = 0;
	struct test_pair p;
	unsigned int i;
	void *c;

	test_dev_forget();
	if (test_pair_init(&p, layout, 8, 0) != 0)
		return -1;
	for (i = 0; i < 5; i++) {
		CHECK_EQ(vireo_vq_add_in1(&p.vq, 0x1000, 8, &cookies[i]), 0);
		if (i == 2)
			vireo_vq_publish(&p.vq);	/* 3 published, 2 staged */
	}
	CHECK_EQ(test_dev_pop(&p, 3), 0);
	CHECK_EQ(test_dev_push(&p, 1, true), 0);	/* one used, unreclaimed */
	while ((c = vireo_vq_detach_unused(&p.vq)) != NULL) {
		i = (int *)c - cookies;
		CHECK(i < 5 && !(seen & 1 << i));
		seen |= 1 << i;
	}
	CHECK_EQ(seen, 0x1f);
	CHECK_EQ(vireo_vq_nfree(&p.vq), 8);
	CHECK_EQ(vireo_vq_next_avail(&p.vq), 0);
	CHECK_EQ(vireo_vq_last_used(&p.vq), 0);
	CHECK_EQ(vireo_vq_used_wrap_counter(&p.vq), layout == VIREO_VQ_PACKED);
	/* reinitialised: a fresh device view works with it */
	test_dev_forget();
	CHECK_EQ(vireo_vq_dev_init(&p.dev, layout, 8, 0, p.ring, NULL, NULL), 0);
	CHECK_EQ(test_add(&p, 8, true), 0);
	CHECK_EQ(test_dev_pop(&p, 8), 0);
	CHECK_EQ(test_dev_push(&p, 8, true), 0);
	CHECK_EQ(test_reclaim(&p, 8), 0);
	/* reset after traffic */
	CHECK_EQ(test_add(&p, 3, true), 0);
	vireo_vq_reset(&p.vq);
	CHECK_EQ(vireo_vq_nfree(&p.vq), 8);
	CHECK_EQ(p.vq.in_flight, 0);
	CHECK(!vireo_vq_used_pending(&p.vq));
	test_pair_fini(&p);
	return 0;
}

static int
strings(void)
{
	static const int codes[] = {
		VIREO_VQ_OK, VIREO_VQ_EINVAL, VIREO_VQ_EFULL, VIREO_VQ_EBROKEN,
		VIREO_VQ_ENOINDIRECT, VIREO_VQ_EBADID, VIREO_VQ_ENOTPOSTED,
		VIREO_VQ_EBADLEN, VIREO_VQ_EBADFLAGS, VIREO_VQ_EBADIDX,
		VIREO_VQ_EORDER, VIREO_VQ_EBADCHAIN, VIREO_VQ_ESEGS,
		VIREO_VQ_EBADADDR, VIREO_VQ_EBADAVAIL,
	};
	unsigned int i, j, n = sizeof(codes) / sizeof(codes[0]);

	for (i = 0; i < n; i++) {
		CHECK(strcmp(vireo_vq_strerror(codes[i]), "unknown error") != 0);
		for (j = 0; j < i; j++)
			CHECK(strcmp(vireo_vq_strerror(codes[i]),
				     vireo_vq_strerror(codes[j])) != 0);
	}
	CHECK(strcmp(vireo_vq_strerror(-99), "unknown error") == 0);
	return 0;
}

static const char dump_split[] =
	"vq split size=4 options=+event_idx\n"
	"  free=1 in_flight=2 staged=1 next_id=3\n"
	"  next_avail=3 last_used=0\n"
	"  broken: no\n"
	"  avail: flags=0x0 idx=2 used_event=0\n"
	"  used: flags=0x0 idx=0 avail_event=0\n"
	"  avail.ring[1]=1\n"
	"  avail.ring[2]=2\n"
	"  used.ring[0] id=0 len=0\n"
	"  desc[3] addr=0x0 len=0 flags=----- next=0\n";

static const char dump_packed[] =
	"vq packed size=3 options=+in_order\n"
	"  free=1 in_flight=1 staged=0 next_id=0\n"
	"  next_avail=0 avail_wrap=0 last_used=1 used_wrap=1\n"
	"  broken: -13 (device used flags out of phase)\n"
	"  driver_event: enable off=0 wrap=0\n"
	"  device_event: enable off=0 wrap=0\n"
	"  desc[1] addr=0x2000 len=32 flags=----U id=1\n"
	"  desc[2] addr=0x3000 len=48 flags=-W-A- id=1\n"
	"  desc[0] addr=0x1000 len=0 flags=---AU id=0\n";

static int
dump(void)
{
	struct vireo_buf bufs[2] = { { 0x2000, 32 }, { 0x3000, 48 } };
	char out[2048], small[16];
	struct test_pair p;
	void *cookie;
	uint32_t len;
	int x, n;

	/* split, 4 slots: three buffers, two published, none used */
	if (test_pair_init(&p, VIREO_VQ_SPLIT, 4, VIREO_VQ_OPT_EVENT_IDX) != 0)
		return -1;
	CHECK_EQ(vireo_vq_add_out1(&p.vq, 0x1000, 16, &x), 0);
	CHECK_EQ(vireo_vq_add_in1(&p.vq, 0x2000, 32, &x), 0);
	vireo_vq_publish(&p.vq);
	CHECK_EQ(vireo_vq_add_in1(&p.vq, 0x3000, 48, &x), 0);
	n = vireo_vq_dump(&p.vq, out, sizeof(out));
	if (strcmp(out, dump_split) != 0)
		fprintf(stderr, "got:\n%s", out);
	CHECK(strcmp(out, dump_split) == 0);
	CHECK_EQ(n, strlen(dump_split));
	/* truncation: still terminated, full length reported */
	CHECK_EQ(vireo_vq_dump(&p.vq, small, sizeof(small)), n);
	CHECK_EQ(strlen(small), sizeof(small) - 1);
	test_pair_fini(&p);

	/* packed, 3 slots, in-order: one buffer used and reclaimed, a
	 * chain of two published, then the device writes USED without
	 * AVAIL on its head */
	if (test_pair_init(&p, VIREO_VQ_PACKED, 3, VIREO_VQ_OPT_IN_ORDER) != 0)
		return -1;
	test_dev_forget();
	CHECK_EQ(vireo_vq_add_out1(&p.vq, 0x1000, 16, &x), 0);
	vireo_vq_publish(&p.vq);
	CHECK_EQ(test_dev_pop(&p, 1), 0);
	CHECK_EQ(test_dev_push(&p, 1, true), 0);
	CHECK_EQ(vireo_vq_get_used(&p.vq, &cookie, &len), 1);
	CHECK_EQ(vireo_vq_add(&p.vq, bufs, 0, 2, &x), 0);
	vireo_vq_publish(&p.vq);
	p.vq.packed.ring.desc[1].flags = VIRTQ_DESC_F_USED;	/* half used */
	CHECK_EQ(vireo_vq_get_used(&p.vq, &cookie, &len), VIREO_VQ_EBADFLAGS);
	vireo_vq_dump(&p.vq, out, sizeof(out));
	if (strcmp(out, dump_packed) != 0)
		fprintf(stderr, "got:\n%s", out);
	CHECK(strcmp(out, dump_packed) == 0);
	test_pair_fini(&p);
	return 0;
}

int
main(void)
{
	enum vireo_vq_layout l;

	test_report(areas(), "areas and sizes");
	test_report(init_checks(), "init checks and addresses");
	for (l = VIREO_VQ_SPLIT; l <= VIREO_VQ_PACKED; l++) {
		test_report(add_errors(l), "%s add errors and indirect limits",
			    test_layout_name(l));
		test_report(teardown(l), "%s detach unused, reset",
			    test_layout_name(l));
	}
	test_report(restore(VIREO_VQ_SPLIT, 0xfffcfffc, 0x00020002),
		    "split restore across the index wrap");
	test_report(restore(VIREO_VQ_PACKED, 0x00060006, 0x80048004),
		    "packed restore across the ring wrap");
	for (l = VIREO_VQ_SPLIT; l <= VIREO_VQ_PACKED; l++) {
		test_report(handover(l, false, 0),
			    "%s hand-over after a half-published batch",
			    test_layout_name(l));
		test_report(handover(l, true, 0),
			    "%s in-order hand-over after a half-published batch",
			    test_layout_name(l));
		test_report(handover(l, false, 6),
			    "%s hand-over across the wrap", test_layout_name(l));
		test_report(handover(l, true, 6),
			    "%s in-order hand-over across the wrap",
			    test_layout_name(l));
	}
	test_report(handover_bounds(), "packed resume point bounds");
	test_report(restore(VIREO_VQ_PACKED, 0x80030003 | 0x8000, 0x00018001 ^ 0x8000),
		    "packed restore in phase 1");
	test_report(restore_checks(), "restore checks and accessors");
	test_report(strings(), "error strings");
	test_report(dump(), "dump text");
	return test_summary();
}
