/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The Vireo Authors
 */

/*
 * Event suppression, both directions, both layouts: for each mode the
 * exact operations that must and must not produce a notification
 * (driver kick, vireo_vq_kick_prepare) or an interrupt (device,
 * vireo_vq_dev_should_interrupt), including across ring wraps.
 */

#include "vring_test.h"

/* Driver -> device, flags mode: NO_NOTIFY / DISABLE vs ENABLE. */
static int
kick_flags(enum vireo_vq_layout layout)
{
	struct test_pair p;

	if (test_pair_open(&p, layout, 8, 0) != 0)
		return -1;
	CHECK_EQ(vireo_vq_kick_prepare(&p.vq), 0);	/* nothing added */
	CHECK_EQ(vireo_vq_dev_set_notify(&p.dev, false), false);
	CHECK_EQ(test_add(&p, 1, true), 0);
	CHECK_EQ(vireo_vq_kick_prepare(&p.vq), 0);	/* device said no */
	CHECK_EQ(vireo_vq_dev_set_notify(&p.dev, true), true);	/* 1 waiting */
	CHECK_EQ(test_add(&p, 2, true), 0);
	CHECK_EQ(vireo_vq_kick_prepare(&p.vq), 1);
	CHECK_EQ(vireo_vq_kick_prepare(&p.vq), 0);	/* nothing new */
	CHECK_EQ(test_add(&p, 1, false), 0);		/* staged only */
	CHECK_EQ(vireo_vq_kick_prepare(&p.vq), 0);
	vireo_vq_publish(&p.vq);
	CHECK_EQ(vireo_vq_kick_prepare(&p.vq), 1);
	test_pair_fini(&p);
	return 0;
}

/* Driver -> device, EVENT_IDX: avail_event (split), DESC (packed). */
static int
kick_event_idx(enum vireo_vq_layout layout, uint16_t size)
{
	struct test_pair p;
	unsigned int lap;

	if (test_pair_open(&p, layout, size, VIREO_VQ_OPT_EVENT_IDX) != 0)
		return -1;
	if (size < 8)
		goto laps;	/* the script below keeps 6 buffers out */
	CHECK_EQ(vireo_vq_dev_set_notify(&p.dev, true), false);
	CHECK_EQ(test_add(&p, 1, true), 0);
	CHECK_EQ(vireo_vq_kick_prepare(&p.vq), 1);	/* crossed the event */
	CHECK_EQ(test_add(&p, 1, true), 0);
	CHECK_EQ(vireo_vq_kick_prepare(&p.vq), 0);	/* device still behind */
	CHECK_EQ(test_dev_pop(&p, 2), 0);
	CHECK_EQ(vireo_vq_dev_set_notify(&p.dev, true), false);
	CHECK_EQ(test_add(&p, 2, true), 0);
	CHECK_EQ(test_add(&p, 1, false), 0);	/* staged: not in the window */
	CHECK_EQ(vireo_vq_kick_prepare(&p.vq), 1);	/* one kick per batch */
	vireo_vq_publish(&p.vq);
	CHECK_EQ(vireo_vq_kick_prepare(&p.vq), 0);	/* event already passed */
	CHECK_EQ(test_dev_pop(&p, 3), 0);
	CHECK_EQ(vireo_vq_dev_set_notify(&p.dev, false), false);
	CHECK_EQ(test_add(&p, 1, true), 0);
	CHECK_EQ(vireo_vq_kick_prepare(&p.vq), 0);	/* disabled */
	CHECK_EQ(test_dev_pop(&p, 1), 0);
	CHECK_EQ(test_dev_push(&p, 6, true), 0);
	CHECK_EQ(test_reclaim(&p, 6), 0);
laps:
	/* many laps: the event slot walks over the wrap point */
	for (lap = 0; lap < 3u * size; lap++) {
		CHECK_EQ(vireo_vq_dev_set_notify(&p.dev, true), false);
		CHECK_EQ(test_add(&p, 1, true), 0);
		CHECK_EQ(vireo_vq_kick_prepare(&p.vq), 1);
		CHECK_EQ(test_add(&p, 1, true), 0);
		CHECK_EQ(vireo_vq_kick_prepare(&p.vq), 0);
		CHECK_EQ(test_dev_pop(&p, 2), 0);
		CHECK_EQ(test_dev_push(&p, 2, true), 0);
		CHECK_EQ(test_reclaim(&p, 2), 0);
	}
	test_pair_fini(&p);
	return 0;
}

/* Device -> driver, flags mode: NO_INTERRUPT / DISABLE vs ENABLE. */
static int
irq_flags(enum vireo_vq_layout layout)
{
	struct test_pair p;

	if (test_pair_open(&p, layout, 8, 0) != 0)
		return -1;
	CHECK_EQ(test_add(&p, 3, true), 0);
	CHECK_EQ(test_dev_pop(&p, 3), 0);
	CHECK_EQ(vireo_vq_disable_cb(&p.vq), 0);
	CHECK_EQ(test_dev_push(&p, 1, true), 0);
	CHECK_EQ(vireo_vq_dev_should_interrupt(&p.dev), false);
	CHECK_EQ(vireo_vq_enable_cb(&p.vq), 1);	/* one waits: poll it */
	CHECK_EQ(test_reclaim(&p, 1), 0);
	CHECK_EQ(vireo_vq_enable_cb(&p.vq), 0);
	CHECK_EQ(test_dev_push(&p, 1, true), 0);
	CHECK_EQ(vireo_vq_dev_should_interrupt(&p.dev), true);
	CHECK_EQ(vireo_vq_disable_cb(&p.vq), 0);
	CHECK_EQ(test_dev_push(&p, 1, true), 0);
	CHECK_EQ(vireo_vq_dev_should_interrupt(&p.dev), false);
	test_pair_fini(&p);
	return 0;
}

/* Device -> driver, EVENT_IDX: used_event (split), DESC (packed). */
static int
irq_event_idx(enum vireo_vq_layout layout, uint16_t size)
{
	struct test_pair p;
	unsigned int lap;

	if (test_pair_open(&p, layout, size, VIREO_VQ_OPT_EVENT_IDX) != 0)
		return -1;
	if (size < 8)
		goto laps;	/* the script below keeps 4 buffers out */
	CHECK_EQ(test_add(&p, 4, true), 0);
	CHECK_EQ(test_dev_pop(&p, 4), 0);
	CHECK_EQ(vireo_vq_enable_cb(&p.vq), 0);
	CHECK_EQ(test_dev_push(&p, 1, true), 0);
	CHECK_EQ(vireo_vq_dev_should_interrupt(&p.dev), true);
	CHECK_EQ(test_dev_push(&p, 1, true), 0);
	CHECK_EQ(vireo_vq_dev_should_interrupt(&p.dev), false); /* not consumed */
	CHECK_EQ(vireo_vq_dev_should_interrupt(&p.dev), false); /* nothing new */
	CHECK_EQ(test_reclaim(&p, 2), 0);
	CHECK_EQ(vireo_vq_enable_cb(&p.vq), 0);
	CHECK_EQ(test_dev_push(&p, 1, true), 0);
	CHECK_EQ(vireo_vq_dev_should_interrupt(&p.dev), true);
	CHECK_EQ(test_reclaim(&p, 1), 0);
	CHECK_EQ(vireo_vq_disable_cb(&p.vq), 0);
	CHECK_EQ(test_dev_push(&p, 1, false), 0);
	vireo_vq_dev_publish(&p.dev);
	CHECK_EQ(vireo_vq_dev_should_interrupt(&p.dev), false);
	CHECK_EQ(vireo_vq_enable_cb(&p.vq), 1);	/* lost wakeup avoided */
	CHECK_EQ(test_reclaim(&p, 1), 0);
laps:
	for (lap = 0; lap < 3u * size; lap++) {
		CHECK_EQ(test_add(&p, 2, true), 0);
		CHECK_EQ(test_dev_pop(&p, 2), 0);
		CHECK_EQ(vireo_vq_enable_cb(&p.vq), 0);
		CHECK_EQ(test_dev_push(&p, 1, true), 0);
		CHECK_EQ(vireo_vq_dev_should_interrupt(&p.dev), true);
		CHECK_EQ(test_dev_push(&p, 1, true), 0);
		CHECK_EQ(vireo_vq_dev_should_interrupt(&p.dev), false);
		CHECK_EQ(test_reclaim(&p, 2), 0);
	}
	test_pair_fini(&p);
	return 0;
}

/* The packed DESC decision itself, at the wrap boundary. */
static int
packed_desc_formula(void)
{
	struct vireo_packed_event ev = { 0, VIRTQ_EVENT_F_DESC };

	/* event at slot 3 of phase 1, we moved 2..4 (phase 1): crossed */
	ev.off_wrap = 3 | 1u << 15;
	CHECK(vireo_ring_packed_wants(&ev, 4, true, 2, 8));
	/* we moved 0..2: not yet */
	CHECK(!vireo_ring_packed_wants(&ev, 2, true, 2, 8));
	/* event at slot 7 of phase 1, we moved 6 -> 1 into phase 0 */
	ev.off_wrap = 7 | 1u << 15;
	CHECK(vireo_ring_packed_wants(&ev, 1, false, 3, 8));
	/* event at slot 0 of phase 0, we moved 6 -> 1 into phase 0 */
	ev.off_wrap = 0;
	CHECK(vireo_ring_packed_wants(&ev, 1, false, 3, 8));
	/* event at slot 1 of phase 0 (just ahead): not crossed */
	ev.off_wrap = 1;
	CHECK(!vireo_ring_packed_wants(&ev, 1, false, 3, 8));
	/* disabled, enabled and an unknown mode */
	ev.flags = VIRTQ_EVENT_F_DISABLE;
	CHECK(!vireo_ring_packed_wants(&ev, 4, true, 2, 8));
	ev.flags = VIRTQ_EVENT_F_ENABLE;
	CHECK(vireo_ring_packed_wants(&ev, 4, true, 0, 8));
	ev.flags = 3;
	CHECK(vireo_ring_packed_wants(&ev, 4, true, 2, 8));
	/* split formula: event 5, moved 3..6 yes, 6..8 no */
	CHECK(vireo_ring_need_event(5, 6, 3));
	CHECK(!vireo_ring_need_event(5, 8, 6));
	CHECK(vireo_ring_need_event(0xffff, 1, 0xfffe));	/* index wrap */
	return 0;
}

int
main(void)
{
	static const uint16_t sizes[] = { 2, 3, 4, 7, 8, 64, 256 };
	enum vireo_vq_layout l;
	unsigned int k;

	for (l = VIREO_VQ_SPLIT; l <= VIREO_VQ_PACKED; l++) {
		test_report(kick_flags(l), "%s kick: flags", test_layout_name(l));
		test_report(irq_flags(l), "%s interrupt: flags",
			    test_layout_name(l));
		for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
			if (l == VIREO_VQ_SPLIT && (sizes[k] & (sizes[k] - 1)))
				continue;
			test_report(kick_event_idx(l, sizes[k]),
				    "%s kick: event idx, size %u",
				    test_layout_name(l), sizes[k]);
			test_report(irq_event_idx(l, sizes[k]),
				    "%s interrupt: event idx, size %u",
				    test_layout_name(l), sizes[k]);
		}
	}
	test_report(packed_desc_formula(), "event formulas at the wrap");
	return test_summary();
}
