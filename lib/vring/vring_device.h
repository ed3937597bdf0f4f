/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The Vireo Authors
 */

/*
 * Device role over the same ring memory: take available chains, mark
 * them used, decide interrupts, suppress notifications. Used by the unit
 * tests, the fault-injecting backend and the virtio-user control queue
 * emulation. Not a hot path. Everything the driver wrote is read once
 * and checked: a bad chain is reported, never followed out of bounds.
 */

#ifndef VIREO_VRING_DEVICE_H
#define VIREO_VRING_DEVICE_H

#include "vring.h"

/* Maps a bus address range to a pointer, or NULL if it is not mapped. */
typedef void *(*vireo_vq_map_fn)(void *ctx, uint64_t addr, uint32_t len);

/* One buffer of a popped chain. */
struct vireo_seg {
	uint64_t addr;		/* bus address, as the driver wrote it */
	uint32_t len;
	bool write;		/* device-writable */
};

/* What vireo_vq_dev_pop took. */
struct vireo_vq_dev_chain {
	uint16_t id;		/* buffer id to give back in the used entry */
	uint16_t ndesc;		/* ring descriptors it occupied (packed skip) */
	uint16_t nsegs;		/* segments filled */
};

struct vireo_vq_dev {
	uint16_t size;
	uint8_t layout;			/* enum vireo_vq_layout */
	uint8_t options;		/* VIREO_VQ_OPT_* */
	uint16_t last_avail;		/* split: avail idx taken; packed: next slot */
	bool avail_wrap_counter;	/* packed: phase of the next avail slot */
	uint16_t used_idx;		/* split: used idx incl. staged; packed: slot */
	bool used_wrap_counter;		/* packed: phase we mark used with */
	uint16_t staged;		/* split: entries written, not published */
	uint16_t used_since_event;	/* split: entries; packed: descriptors */
	struct vireo_packed_stage stage;	/* packed: first used slot withheld */
	union {
		struct vireo_ring_split split;
		struct vireo_ring_packed packed;
	};
	vireo_vq_map_fn map;		/* NULL: addresses are pointers */
	void *map_ctx;
};

int vireo_vq_dev_init(struct vireo_vq_dev *dev, enum vireo_vq_layout layout,
		      uint16_t size, uint32_t options, void *ring,
		      vireo_vq_map_fn map, void *map_ctx);
int vireo_vq_dev_set_base(struct vireo_vq_dev *dev, uint32_t base);
uint32_t vireo_vq_dev_get_base(const struct vireo_vq_dev *dev);
int vireo_vq_dev_pop(struct vireo_vq_dev *dev, struct vireo_vq_dev_chain *chain,
		     struct vireo_seg *segs, uint16_t max_segs);
int vireo_vq_dev_push(struct vireo_vq_dev *dev, uint16_t id, uint32_t len,
		      uint16_t ndesc);
int vireo_vq_dev_push_batch(struct vireo_vq_dev *dev, uint16_t last_id,
			    uint32_t len, uint16_t ndesc_total, uint16_t count);
void vireo_vq_dev_publish(struct vireo_vq_dev *dev);
bool vireo_vq_dev_should_interrupt(struct vireo_vq_dev *dev);
bool vireo_vq_dev_set_notify(struct vireo_vq_dev *dev, bool enable);
void *vireo_vq_dev_map(const struct vireo_vq_dev *dev, uint64_t addr,
		       uint32_t len);

#endif /* VIREO_VRING_DEVICE_H */
