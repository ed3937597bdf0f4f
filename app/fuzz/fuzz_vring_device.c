/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The Vireo Authors
 */

/*
 * libFuzzer target: the device role (what the fault backend and the
 * control queue emulation run) fed ring memory a driver wrote, whatever
 * it wrote: descriptors, avail ring, indirect tables, event areas.
 *
 * Input: a configuration byte (layout, ring size, options), a base to
 * resume at, then a script: fill or patch ring and indirect memory,
 * take chains, complete them, decide interrupts and notifications.
 * Invariants: a chain taken fits the caller's segment array and the
 * ring; a failure is one of the documented codes and consumes nothing;
 * every table the device reads goes through the map callback, which
 * only hands out memory inside the ring or the indirect area (exact
 * allocations, so AddressSanitizer sees any step outside).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vring.h"
#include "vring_device.h"

#define FZD_IND_LEN	512	/* bytes of indirect-table memory */
#define FZD_MAX_SEGS	16	/* segments the caller has room for */

static const uint16_t fzd_split_sizes[8] = { 1, 2, 4, 8, 16, 32, 64, 256 };
static const uint16_t fzd_packed_sizes[8] = { 1, 2, 3, 7, 8, 16, 100, 256 };

#define FZD_ASSERT(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: invariant failed: %s\n",	\
			__FILE__, __LINE__, #cond);			\
		abort();						\
	}								\
} while (0)

struct fzd {
	const uint8_t *in;
	size_t len;
	size_t pos;
	uint8_t *ring;
	size_t ring_len;
	uint8_t *ind;
	uint64_t ind_base;	/* bus address the driver uses for ind */
	uint16_t size;
	uint32_t maps;		/* tables the device looked up */
};

static uint8_t
fzd_u8(struct fzd *f)
{
	return f->pos < f->len ? f->in[f->pos++] : 0;
}

static uint16_t
fzd_u16(struct fzd *f)
{
	uint16_t lo = fzd_u8(f);

	return lo | (uint16_t)fzd_u8(f) << 8;
}

/*
 * Bus addresses are offsets from ind_base into the indirect area (as a
 * memory table translates guest addresses): anything else is refused.
 */
static void *
fzd_map(void *ctx, uint64_t addr, uint32_t len)
{
	struct fzd *f = ctx;
	uint64_t off = addr - f->ind_base;

	f->maps++;
	if (addr < f->ind_base || off > FZD_IND_LEN || len > FZD_IND_LEN - off)
		return NULL;
	return f->ind + off;
}

/* Bytes from the input into ring or indirect memory. */
static void
fzd_patch(struct fzd *f)
{
	uint8_t ctl = fzd_u8(f);
	bool ind = ctl & 1;
	size_t area = ind ? FZD_IND_LEN : f->ring_len;
	size_t off = fzd_u16(f) % area, n = ((ctl >> 1) & 63) + 1, i;
	uint8_t *mem = ind ? f->ind : f->ring;

	for (i = 0; i < n && off + i < area; i++)
		mem[off + i] = fzd_u8(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vireo_seg segs[FZD_MAX_SEGS];
	struct vireo_vq_dev_chain c;
	struct vireo_vq_areas a;
	struct vireo_vq_dev dev;
	enum vireo_vq_layout layout;
	uint32_t options = 0, taken = 0;
	struct fzd f = { 0 };
	unsigned int ops = 0, i;
	uint8_t cfg;
	int rc;

	if (size < 4)
		return 0;
	f.in = data;
	f.len = size;
	cfg = fzd_u8(&f);
	layout = cfg & 1 ? VIREO_VQ_PACKED : VIREO_VQ_SPLIT;
	f.size = layout == VIREO_VQ_PACKED ? fzd_packed_sizes[(cfg >> 1) & 7] :
		fzd_split_sizes[(cfg >> 1) & 7];
	if (cfg & 0x10)
		options |= VIREO_VQ_OPT_EVENT_IDX;
	if (cfg & 0x20)
		options |= VIREO_VQ_OPT_IN_ORDER;
	if (cfg & 0x40)
		options |= VIREO_VQ_OPT_INDIRECT;
	FZD_ASSERT(vireo_vq_areas(layout, f.size, &a) == 0);
	f.ring_len = a.total;
	f.ring = aligned_alloc(a.align, a.total);
	/* the area starts at an odd address on purpose: tables need not
	 * be aligned */
	f.ind = malloc(FZD_IND_LEN);
	FZD_ASSERT(f.ring != NULL && f.ind != NULL);
	f.ind_base = 0x10000 + (cfg >> 7);
	/* the driver's memory starts as the input, cycled */
	for (i = 0; i < a.total; i++)
		f.ring[i] = data[(1 + i) % size];
	for (i = 0; i < FZD_IND_LEN; i++)
		f.ind[i] = data[(7 + i * 3) % size];
	FZD_ASSERT(vireo_vq_dev_init(&dev, layout, f.size, options, f.ring,
				     fzd_map, &f) == 0);
	rc = vireo_vq_dev_set_base(&dev, (uint32_t)fzd_u16(&f) << 16 |
				   fzd_u16(&f));
	FZD_ASSERT(rc == 0 || rc == VIREO_VQ_EINVAL);

	while (f.pos < f.len && ops++ < 2048) {
		uint8_t op = fzd_u8(&f);

		switch (op % 5) {
		case 0:
			fzd_patch(&f);
			break;
		case 1:
		case 2: {
			uint16_t max = (op >> 3) % FZD_MAX_SEGS + 1;
			uint32_t before = vireo_vq_dev_get_base(&dev);

			memset(&c, 0xa5, sizeof(c));
			rc = vireo_vq_dev_pop(&dev, &c, segs, max);
			if (rc == 1) {
				FZD_ASSERT(c.nsegs >= 1 && c.nsegs <= max);
				FZD_ASSERT(c.ndesc >= 1 && c.ndesc <= f.size);
				if (layout == VIREO_VQ_SPLIT)
					FZD_ASSERT(c.id < f.size);
				taken++;
				/* complete it: in order, or not, any length */
				rc = vireo_vq_dev_push(&dev, c.id,
						       op & 0x80 ? 0 : segs[0].len,
						       c.ndesc);
				FZD_ASSERT(rc == 0);
			} else {
				FZD_ASSERT(rc == 0 || rc == VIREO_VQ_EBADCHAIN ||
					   rc == VIREO_VQ_ESEGS ||
					   rc == VIREO_VQ_EBADADDR ||
					   rc == VIREO_VQ_EBADAVAIL);
				/* a refused chain consumes nothing */
				FZD_ASSERT(vireo_vq_dev_get_base(&dev) == before);
			}
			break;
		}
		case 3:
			vireo_vq_dev_publish(&dev);
			(void)vireo_vq_dev_should_interrupt(&dev);
			break;
		default:
			(void)vireo_vq_dev_set_notify(&dev, op & 0x80);
			break;
		}
	}
	vireo_vq_dev_publish(&dev);
	(void)taken;
	free(f.ring);
	free(f.ind);
	return 0;
}
