/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The Vireo Authors
 */

/*
 * A tiny harness for the ring tests (no EAL): cases return 0 or -1,
 * CHECK* print where and why; one line per case, a summary line at the
 * end and a non-zero exit status on failure. Plus a fixture that puts a
 * driver vq and a device view on the same ring memory.
 */

#ifndef VIREO_VRING_TEST_H
#define VIREO_VRING_TEST_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vring.h"
#include "vring_device.h"

static unsigned int test_passed, test_failed;

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: check failed: %s\n",		\
			__FILE__, __LINE__, #cond);			\
		return -1;						\
	}								\
} while (0)

#define CHECK_EQ(a, b) do {						\
	long long check_a_ = (long long)(a), check_b_ = (long long)(b);	\
	if (check_a_ != check_b_) {					\
		fprintf(stderr, "%s:%d: %s == %lld, expected %s == %lld\n", \
			__FILE__, __LINE__, #a, check_a_, #b, check_b_); \
		return -1;						\
	}								\
} while (0)

/* Records a case result under a printf-style name. */
__attribute__((format(printf, 2, 3)))
static inline int
test_report(int rc, const char *fmt, ...)
{
	va_list ap;

	printf("%s ", rc == 0 ? "ok  " : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (rc == 0)
		test_passed++;
	else
		test_failed++;
	return rc;
}

static inline int
test_summary(void)
{
	printf("%u passed, %u failed\n", test_passed, test_failed);
	return test_failed == 0 ? 0 : 1;
}

/* xorshift64*: reproducible from the seed printed with a failure. */
static inline uint64_t
test_rand(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dull;
}

static inline uint32_t
test_rand_below(uint64_t *state, uint32_t n)
{
	return n == 0 ? 0 : (uint32_t)(test_rand(state) >> 33) % n;
}

/* A driver vq and a device view over one ring allocation. */
struct test_pair {
	struct vireo_vq vq;
	struct vireo_vq_dev dev;
	struct vireo_vq_areas areas;
	void *ring;
	struct vireo_vq_slot *slots;
	uint8_t *indirect;		/* size tables of TEST_INDIRECT_MAX */
};

#define TEST_INDIRECT_MAX 8

static inline int
test_pair_init(struct test_pair *p, enum vireo_vq_layout layout,
	       uint16_t size, uint32_t options)
{
	struct vireo_vq_config cfg = { 0 };
	uint16_t i;

	memset(p, 0, sizeof(*p));
	if (vireo_vq_areas_for(layout, size, options, &p->areas) != 0)
		return -1;
	p->ring = aligned_alloc(p->areas.align, p->areas.total);
	p->slots = malloc(vireo_vq_slots_size(size));
	if (p->ring == NULL || p->slots == NULL)
		return -1;
	memset(p->ring, 0, p->areas.total);
	cfg.layout = layout;
	cfg.size = size;
	cfg.options = options;
	cfg.ring = p->ring;
	cfg.ring_iova = (uintptr_t)p->ring;
	cfg.slots = p->slots;
	if (vireo_vq_init(&p->vq, &cfg) != 0)
		return -1;
	if (vireo_vq_dev_init(&p->dev, layout, size, options, p->ring,
			      NULL, NULL) != 0)
		return -1;
	if (options & VIREO_VQ_OPT_INDIRECT) {
		p->indirect = aligned_alloc(16, (size_t)size *
					    TEST_INDIRECT_MAX * 16);
		if (p->indirect == NULL)
			return -1;
		for (i = 0; i < size; i++) {
			uint8_t *t = p->indirect +
				(size_t)i * TEST_INDIRECT_MAX * 16;

			if (vireo_vq_set_indirect(&p->vq, i, t, (uintptr_t)t,
						  TEST_INDIRECT_MAX) != 0)
				return -1;
		}
	}
	return 0;
}

static inline void
test_pair_fini(struct test_pair *p)
{
	free(p->ring);
	free(p->slots);
	free(p->indirect);
	p->ring = NULL;
	p->slots = NULL;
	p->indirect = NULL;
}

static inline const char *
test_layout_name(enum vireo_vq_layout layout)
{
	return layout == VIREO_VQ_SPLIT ? "split" : "packed";
}

/* Simple traffic for the event, validation and basic tests: n one-
 * descriptor buffers (writable, 64 bytes each) with cookies from a
 * static pool, popped and completed by the device in order. */
static uint8_t test_pool[64][64] __attribute__((aligned(16), unused));
static uint16_t test_popped_ids[256] __attribute__((unused));
static uint16_t test_popped_ndesc[256] __attribute__((unused));
static unsigned int test_popped_head __attribute__((unused));
static unsigned int test_popped_count __attribute__((unused));

static inline int
test_add(struct test_pair *p, unsigned int n, bool publish)
{
	static unsigned int next;
	unsigned int i, k;

	for (i = 0; i < n; i++) {
		k = next++ % 64;
		if (vireo_vq_add_in1(&p->vq, (uintptr_t)test_pool[k], 64,
				     test_pool[k]) != 0)
			return -1;
	}
	if (publish)
		vireo_vq_publish(&p->vq);
	return 0;
}

static inline int
test_dev_pop(struct test_pair *p, unsigned int n)
{
	struct vireo_seg segs[4];
	struct vireo_vq_dev_chain c;
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (vireo_vq_dev_pop(&p->dev, &c, segs, 4) != 1)
			return -1;
		test_popped_ids[(test_popped_head + test_popped_count) % 256] = c.id;
		test_popped_ndesc[(test_popped_head + test_popped_count) % 256] = c.ndesc;
		test_popped_count++;
	}
	return 0;
}

static inline int
test_dev_push(struct test_pair *p, unsigned int n, bool publish)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (test_popped_count == 0)
			return -1;
		if (vireo_vq_dev_push(&p->dev, test_popped_ids[test_popped_head],
				      0, test_popped_ndesc[test_popped_head]) != 0)
			return -1;
		test_popped_head = (test_popped_head + 1) % 256;
		test_popped_count--;
	}
	if (publish)
		vireo_vq_dev_publish(&p->dev);
	return 0;
}

/* Reclaims exactly n buffers. */
static inline int
test_reclaim(struct test_pair *p, unsigned int n)
{
	unsigned int i;
	uint32_t len;
	void *cookie;

	for (i = 0; i < n; i++)
		if (vireo_vq_get_used(&p->vq, &cookie, &len) != 1)
			return -1;
	return 0;
}

static inline void
test_dev_forget(void)
{
	test_popped_head = 0;
	test_popped_count = 0;
}

/* A fresh pair for the scripted cases. */
static inline int
test_pair_open(struct test_pair *p, enum vireo_vq_layout layout,
	       uint16_t size, uint32_t options)
{
	test_dev_forget();
	return test_pair_init(p, layout, size, options);
}

#endif /* VIREO_VRING_TEST_H */
