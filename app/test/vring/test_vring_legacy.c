/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The Vireo Authors
 */

/*
 * The legacy split layout (VIREO_VQ_OPT_LEGACY_LAYOUT): the offsets a
 * legacy virtio-pci device computes from one page frame number, the
 * alignment the ring needs, and traffic between the driver and device
 * roles over that layout for several laps of the ring.
 */

#include "vring_test.h"

/* What a legacy device derives from the queue size alone. */
static size_t
legacy_used_offset(uint32_t n)
{
	return (16 * n + 2 * (3 + n) + 4095) & ~(size_t)4095;
}

static size_t
legacy_total(uint32_t n)
{
	return legacy_used_offset(n) + ((2 * 3 + 8 * n + 4095) & ~(size_t)4095);
}

static int
areas(void)
{
	static const uint32_t sizes[] = { 1, 2, 64, 128, 256, 1024, 32768 };
	struct vireo_vq_areas a;
	unsigned int i;

	CHECK_EQ(vireo_vq_areas_for(VIREO_VQ_SPLIT, 256,
				    VIREO_VQ_OPT_LEGACY_LAYOUT, &a), 0);
	CHECK_EQ(a.desc, 0);
	CHECK_EQ(a.driver, 4096);		/* 16 * 256 */
	CHECK_EQ(a.device, 8192);		/* 4096 + 518, next page */
	CHECK_EQ(a.total, 12288);		/* + 2054, a page */
	CHECK_EQ(a.align, 4096);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		CHECK_EQ(vireo_vq_areas_for(VIREO_VQ_SPLIT, sizes[i],
				VIREO_VQ_OPT_LEGACY_LAYOUT, &a), 0);
		CHECK_EQ(a.driver, 16 * sizes[i]);
		CHECK_EQ(a.device, legacy_used_offset(sizes[i]));
		CHECK_EQ(a.total, legacy_total(sizes[i]));
	}
	/* other options leave the legacy layout alone */
	CHECK_EQ(vireo_vq_areas_for(VIREO_VQ_SPLIT, 64,
				    VIREO_VQ_OPT_LEGACY_LAYOUT |
				    VIREO_VQ_OPT_EVENT_IDX, &a), 0);
	CHECK_EQ(a.device, legacy_used_offset(64));
	/* without the option: the compact layout of vireo_vq_areas */
	CHECK_EQ(vireo_vq_areas_for(VIREO_VQ_SPLIT, 256, 0, &a), 0);
	CHECK_EQ(a.device, 4616);
	CHECK_EQ(a.align, 16);
	/* legacy devices have no packed ring; sizes as for split */
	CHECK_EQ(vireo_vq_areas_for(VIREO_VQ_PACKED, 256,
				    VIREO_VQ_OPT_LEGACY_LAYOUT, &a),
		 VIREO_VQ_EINVAL);
	CHECK_EQ(vireo_vq_areas_for(VIREO_VQ_SPLIT, 3,
				    VIREO_VQ_OPT_LEGACY_LAYOUT, &a),
		 VIREO_VQ_EINVAL);
	return 0;
}

static int
init_checks(void)
{
	struct vireo_vq_config cfg = { 0 };
	uint64_t desc, driver, device;
	struct vireo_vq_areas a;
	struct vireo_vq vq;
	uint8_t *ring;

	CHECK_EQ(vireo_vq_areas_for(VIREO_VQ_SPLIT, 64,
				    VIREO_VQ_OPT_LEGACY_LAYOUT, &a), 0);
	ring = aligned_alloc(4096, a.total + 4096);
	cfg.slots = malloc(vireo_vq_slots_size(64));
	CHECK(ring != NULL && cfg.slots != NULL);
	cfg.layout = VIREO_VQ_SPLIT;
	cfg.size = 64;
	cfg.options = VIREO_VQ_OPT_LEGACY_LAYOUT;
	cfg.ring_iova = 0x7f000;
	/* 16-byte alignment is not enough: the device takes a page */
	cfg.ring = ring + 16;
	CHECK_EQ(vireo_vq_init(&vq, &cfg), VIREO_VQ_EINVAL);
	cfg.ring = ring;
	CHECK_EQ(vireo_vq_init(&vq, &cfg), 0);
	vireo_vq_addresses(&vq, &desc, &driver, &device);
	CHECK_EQ(desc, 0x7f000);
	CHECK_EQ(driver, 0x7f000 + 1024);
	CHECK_EQ(device, 0x7f000 + 4096);	/* 1024 + 134 -> next page */
	CHECK((uint8_t *)vq.split.ring.used == ring + 4096);
	cfg.layout = VIREO_VQ_PACKED;
	CHECK_EQ(vireo_vq_init(&vq, &cfg), VIREO_VQ_EINVAL);
	free(cfg.slots);
	free(ring);
	return 0;
}

/*
 * Driver and device role over the legacy layout: each lap adds a
 * random number of buffers, the device completes them, the driver
 * reclaims them with the device's lengths.  A mismatch of the two
 * roles' idea of where the used ring is shows as nothing reclaimed.
 */
static int
traffic(uint16_t size, uint32_t options)
{
	uint64_t seed = 0x1e9ac7 + size;
	unsigned int lap, i, n;
	struct test_pair p;
	uint32_t len;
	void *c;

	if (test_pair_open(&p, VIREO_VQ_SPLIT, size,
			   options | VIREO_VQ_OPT_LEGACY_LAYOUT) != 0)
		return -1;
	CHECK_EQ((uintptr_t)p.ring & 4095, 0);
	for (lap = 0; lap < 4u * size; lap += n) {
		n = 1 + test_rand_below(&seed, (size < 64 ? size : 64u));
		CHECK_EQ(test_add(&p, n, true), 0);
		CHECK_EQ(test_dev_pop(&p, n), 0);
		CHECK_EQ(test_dev_push(&p, n, true), 0);
		for (i = 0; i < n; i++) {
			CHECK_EQ(vireo_vq_get_used(&p.vq, &c, &len), 1);
			CHECK(c != NULL);
		}
		CHECK_EQ(vireo_vq_get_used(&p.vq, &c, &len), 0);
	}
	CHECK_EQ(p.vq.in_flight, 0);
	CHECK(!p.vq.broken);
	/* the used ring is where the device wrote it: one page on */
	CHECK((uint8_t *)p.vq.split.ring.used ==
	      (uint8_t *)p.ring + legacy_used_offset(size));
	CHECK((uint8_t *)p.dev.split.used == (uint8_t *)p.vq.split.ring.used);
	/* reset clears the whole legacy-sized ring, padding included */
	vireo_vq_reset(&p.vq);
	CHECK_EQ(p.vq.split.ring.used->idx, 0);
	test_pair_fini(&p);
	return 0;
}

int
main(void)
{
	test_report(areas(), "legacy areas and sizes");
	test_report(init_checks(), "legacy init checks and addresses");
	test_report(traffic(8, 0), "legacy split traffic, 8 descriptors");
	test_report(traffic(256, VIREO_VQ_OPT_EVENT_IDX),
		    "legacy split traffic, 256 descriptors, event index");
	test_report(traffic(1024, VIREO_VQ_OPT_INDIRECT),
		    "legacy split traffic, 1024 descriptors, indirect");
	return test_summary();
}
