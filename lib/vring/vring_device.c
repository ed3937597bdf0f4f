/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The Vireo Authors
 */

/* Device role: see vring_device.h. */

#include <string.h>

#include "vring_device.h"

int
vireo_vq_dev_init(struct vireo_vq_dev *dev, enum vireo_vq_layout layout,
		  uint16_t size, uint32_t options, void *ring,
		  vireo_vq_map_fn map, void *map_ctx)
{
	struct vireo_vq_areas a = { 0 };
	uint8_t *mem = ring;

	if (dev == NULL || ring == NULL ||
	    vireo_vq_areas_for(layout, size, options, &a) != 0)
		return VIREO_VQ_EINVAL;
	memset(dev, 0, sizeof(*dev));
	dev->size = size;
	dev->layout = layout;
	dev->options = options;
	dev->avail_wrap_counter = true;
	dev->used_wrap_counter = true;
	dev->map = map;
	dev->map_ctx = map_ctx;
	if (layout == VIREO_VQ_SPLIT) {
		dev->split.desc = (void *)(mem + a.desc);
		dev->split.avail = (void *)(mem + a.driver);
		dev->split.used = (void *)(mem + a.device);
	} else {
		dev->packed.desc = (void *)(mem + a.desc);
		dev->packed.driver_event = (void *)(mem + a.driver);
		dev->packed.device_event = (void *)(mem + a.device);
	}
	return 0;
}

/* Same encoding as vireo_vq_set_base; both sides are where we resume. */
int
vireo_vq_dev_set_base(struct vireo_vq_dev *dev, uint32_t base)
{
	uint16_t avail = base & 0xffff, used = base >> 16;

	if (dev->layout == VIREO_VQ_SPLIT) {
		dev->last_avail = avail;
		dev->used_idx = avail;
		__atomic_store_n(&dev->split.used->idx, avail, __ATOMIC_RELEASE);
		return 0;
	}
	if ((avail & VIRTQ_EVENT_OFF_MASK) >= dev->size ||
	    (used & VIRTQ_EVENT_OFF_MASK) >= dev->size)
		return VIREO_VQ_EINVAL;
	dev->last_avail = avail & VIRTQ_EVENT_OFF_MASK;
	dev->avail_wrap_counter = avail >> VIRTQ_EVENT_WRAP_SHIFT;
	dev->used_idx = used & VIRTQ_EVENT_OFF_MASK;
	dev->used_wrap_counter = used >> VIRTQ_EVENT_WRAP_SHIFT;
	return 0;
}

uint32_t
vireo_vq_dev_get_base(const struct vireo_vq_dev *dev)
{
	if (dev->layout == VIREO_VQ_SPLIT)
		return (uint32_t)(uint16_t)(dev->used_idx - dev->staged) << 16 |
			dev->last_avail;
	return (uint32_t)(dev->used_idx |
			  dev->used_wrap_counter << VIRTQ_EVENT_WRAP_SHIFT) << 16 |
		dev->last_avail | dev->avail_wrap_counter << VIRTQ_EVENT_WRAP_SHIFT;
}

void *
vireo_vq_dev_map(const struct vireo_vq_dev *dev, uint64_t addr, uint32_t len)
{
	if (dev->map != NULL)
		return dev->map(dev->map_ctx, addr, len);
	return (void *)(uintptr_t)addr;
}

/* ---- taking chains ---- */

static int
vireo_dev_emit(struct vireo_vq_dev_chain *c, struct vireo_seg *segs,
	       uint16_t max_segs, uint64_t addr, uint32_t len, uint16_t flags)
{
	if (c->nsegs >= max_segs)
		return VIREO_VQ_ESEGS;
	segs[c->nsegs].addr = addr;
	segs[c->nsegs].len = len;
	segs[c->nsegs].write = flags & VIRTQ_DESC_F_WRITE;
	c->nsegs++;
	return 0;
}

/*
 * An indirect table, in the format of the layout: split entries chain
 * with F_NEXT (at most one visit per entry, so a loop ends), packed
 * entries are taken in sequence. No nested indirect (spec 2.7.5.3.1).
 */
static int
vireo_dev_walk_indirect(struct vireo_vq_dev *dev, uint64_t addr, uint32_t len,
			struct vireo_vq_dev_chain *c, struct vireo_seg *segs,
			uint16_t max_segs)
{
	uint32_t n = len / sizeof(struct vireo_split_desc), i, idx = 0;
	struct vireo_split_desc sd;
	struct vireo_packed_desc pd;
	const uint8_t *table;
	uint16_t flags;
	int rc;

	if (len == 0 || len % sizeof(struct vireo_split_desc) != 0)
		return VIREO_VQ_EBADCHAIN;
	table = vireo_vq_dev_map(dev, addr, len);
	if (table == NULL)
		return VIREO_VQ_EBADADDR;
	for (i = 0; i < n; i++) {
		/*
		 * The driver chose the table's address: nothing says it is
		 * aligned. Copy each entry out whole (one read of it, no
		 * misaligned loads) and use only the copy.
		 */
		if (dev->layout == VIREO_VQ_PACKED) {
			memcpy(&pd, table + (size_t)i * sizeof(pd), sizeof(pd));
			flags = pd.flags;
			addr = pd.addr;
			len = pd.len;
		} else {
			memcpy(&sd, table + (size_t)idx * sizeof(sd), sizeof(sd));
			flags = sd.flags;
			addr = sd.addr;
			len = sd.len;
			idx = sd.next;
		}
		if (flags & VIRTQ_DESC_F_INDIRECT)
			return VIREO_VQ_EBADCHAIN;
		rc = vireo_dev_emit(c, segs, max_segs, addr, len, flags);
		if (rc != 0)
			return rc;
		if (dev->layout == VIREO_VQ_SPLIT) {
			if (!(flags & VIRTQ_DESC_F_NEXT))
				return 0;
			if (idx >= n)
				return VIREO_VQ_EBADCHAIN;
		}
	}
	/* split: still F_NEXT after n entries means a loop */
	return dev->layout == VIREO_VQ_SPLIT ? VIREO_VQ_EBADCHAIN : 0;
}

/* One descriptor of the ring itself: a segment or an indirect table. */
static int
vireo_dev_take_desc(struct vireo_vq_dev *dev, uint64_t addr, uint32_t len,
		    uint16_t flags, struct vireo_vq_dev_chain *c,
		    struct vireo_seg *segs, uint16_t max_segs)
{
	if (!(flags & VIRTQ_DESC_F_INDIRECT))
		return vireo_dev_emit(c, segs, max_segs, addr, len, flags);
	/* an indirect descriptor must be alone: no NEXT, nothing before */
	if ((flags & VIRTQ_DESC_F_NEXT) || c->nsegs != 0)
		return VIREO_VQ_EBADCHAIN;
	return vireo_dev_walk_indirect(dev, addr, len, c, segs, max_segs);
}

static int
vireo_vq_dev_pop_split(struct vireo_vq_dev *dev,
		       struct vireo_vq_dev_chain *c, struct vireo_seg *segs,
		       uint16_t max_segs)
{
	const struct vireo_split_desc *d;
	uint16_t avail_idx, head, idx, flags, steps;
	int rc;

	/* Acquire: pairs with the driver's release store of avail->idx
	 * made after it wrote the descriptors and ring entries. */
	avail_idx = __atomic_load_n(&dev->split.avail->idx, __ATOMIC_ACQUIRE);
	if (avail_idx == dev->last_avail)
		return 0;
	if ((uint16_t)(avail_idx - dev->last_avail) > dev->size)
		return VIREO_VQ_EBADAVAIL;
	head = VIREO_READ_ONCE(dev->split.avail->ring[dev->last_avail &
						       (dev->size - 1)]);
	if (head >= dev->size)
		return VIREO_VQ_EBADAVAIL;
	c->id = head;
	c->ndesc = 0;
	idx = head;
	for (steps = 0; steps < dev->size; steps++) {
		d = &dev->split.desc[idx];
		flags = VIREO_READ_ONCE(d->flags);
		rc = vireo_dev_take_desc(dev, VIREO_READ_ONCE(d->addr),
					 VIREO_READ_ONCE(d->len), flags, c,
					 segs, max_segs);
		if (rc != 0)
			return rc;
		c->ndesc++;
		if (!(flags & VIRTQ_DESC_F_NEXT))
			break;
		idx = VIREO_READ_ONCE(d->next);
		if (idx >= dev->size)
			return VIREO_VQ_EBADCHAIN;
	}
	if (steps == dev->size)
		return VIREO_VQ_EBADCHAIN;	/* longer than the table: loop */
	dev->last_avail++;
	return 1;
}

static int
vireo_vq_dev_pop_packed(struct vireo_vq_dev *dev,
			struct vireo_vq_dev_chain *c, struct vireo_seg *segs,
			uint16_t max_segs)
{
	uint16_t pos = dev->last_avail, flags;
	bool wrap = dev->avail_wrap_counter;
	const struct vireo_packed_desc *d;
	int rc;

	d = &dev->packed.desc[pos];
	/* Acquire: pairs with the driver's release store of this head's
	 * flags made after it wrote the chain. */
	flags = __atomic_load_n(&d->flags, __ATOMIC_ACQUIRE);
	if ((bool)(flags & VIRTQ_DESC_F_AVAIL) != wrap ||
	    (bool)(flags & VIRTQ_DESC_F_USED) == wrap)
		return 0;
	for (c->ndesc = 1; ; c->ndesc++) {
		rc = vireo_dev_take_desc(dev, VIREO_READ_ONCE(d->addr),
					 VIREO_READ_ONCE(d->len), flags, c,
					 segs, max_segs);
		if (rc != 0)
			return rc;
		c->id = VIREO_READ_ONCE(d->id);	/* the last one counts */
		if (!(flags & VIRTQ_DESC_F_NEXT))
			break;
		if (c->ndesc == dev->size)
			return VIREO_VQ_EBADCHAIN;	/* a chain wider than the ring */
		vireo_packed_advance(&pos, &wrap, 1, dev->size);
		d = &dev->packed.desc[pos];
		flags = VIREO_READ_ONCE(d->flags);
	}
	vireo_packed_advance(&dev->last_avail, &dev->avail_wrap_counter,
			     c->ndesc, dev->size);
	return 1;
}

/*
 * Takes the next available chain: 1 with *chain and segs filled, 0 if
 * none, or a negative VIREO_VQ_E* (nothing consumed: the caller decides
 * whether to give up on the queue).
 */
int
vireo_vq_dev_pop(struct vireo_vq_dev *dev, struct vireo_vq_dev_chain *chain,
		 struct vireo_seg *segs, uint16_t max_segs)
{
	chain->nsegs = 0;
	return dev->layout == VIREO_VQ_SPLIT ?
		vireo_vq_dev_pop_split(dev, chain, segs, max_segs) :
		vireo_vq_dev_pop_packed(dev, chain, segs, max_segs);
}

/* ---- giving them back ---- */

/*
 * Stages one used entry for 'count' buffers ending with 'last_id'
 * (count > 1 only with IN_ORDER). Split: one ring entry, the index
 * moves by count. Packed: one used descriptor, the ring position
 * moves past all ndesc_total descriptors of the batch.
 */
int
vireo_vq_dev_push_batch(struct vireo_vq_dev *dev, uint16_t last_id,
			uint32_t len, uint16_t ndesc_total, uint16_t count)
{
	struct vireo_split_used_elem *e;
	struct vireo_packed_desc *d;

	if (count == 0 || ndesc_total == 0 || ndesc_total > dev->size)
		return VIREO_VQ_EINVAL;
	if (dev->layout == VIREO_VQ_SPLIT) {
		e = &dev->split.used->ring[dev->used_idx & (dev->size - 1)];
		VIREO_WRITE_ONCE(e->id, last_id);
		VIREO_WRITE_ONCE(e->len, len);
		dev->used_idx += count;
		dev->staged += count;
		dev->used_since_event += count;
		return 0;
	}
	d = &dev->packed.desc[dev->used_idx];
	VIREO_WRITE_ONCE(d->id, last_id);
	VIREO_WRITE_ONCE(d->len, len);
	vireo_packed_stage_flags(dev->packed.desc, &dev->stage, dev->used_idx,
		dev->used_wrap_counter ?
			VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED : 0, true);
	vireo_packed_advance(&dev->used_idx, &dev->used_wrap_counter,
			     ndesc_total, dev->size);
	dev->used_since_event += ndesc_total;
	return 0;
}

int
vireo_vq_dev_push(struct vireo_vq_dev *dev, uint16_t id, uint32_t len,
		  uint16_t ndesc)
{
	return vireo_vq_dev_push_batch(dev, id, len, ndesc, 1);
}

void
vireo_vq_dev_publish(struct vireo_vq_dev *dev)
{
	if (dev->layout == VIREO_VQ_PACKED) {
		vireo_packed_stage_publish(dev->packed.desc, &dev->stage);
		return;
	}
	/* Release: the used entries are visible before the index the
	 * driver acquires. */
	__atomic_store_n(&dev->split.used->idx, dev->used_idx, __ATOMIC_RELEASE);
	dev->staged = 0;
}

/* After publish: does the driver want an interrupt for what we used
 * since the last call? */
bool
vireo_vq_dev_should_interrupt(struct vireo_vq_dev *dev)
{
	uint16_t count = dev->used_since_event;

	dev->used_since_event = 0;
	/* Full fence: our used index/flags stores against our load of the
	 * driver's suppression fields. Pairs with the driver's store of
	 * those then load of the used side (vireo_vq_enable_cb). */
	vireo_full_fence();
	if (dev->layout == VIREO_VQ_SPLIT)
		return vireo_ring_split_wants(&dev->split.avail->flags,
			&dev->split.avail->ring[dev->size],
			dev->options & VIREO_VQ_OPT_EVENT_IDX,
			dev->used_idx - dev->staged, count);
	return vireo_ring_packed_wants(dev->packed.driver_event, dev->used_idx,
				       dev->used_wrap_counter, count, dev->size);
}

/* Asks the driver for kicks or not; returns true if chains are already
 * available (take them: the driver may not kick for those). */
bool
vireo_vq_dev_set_notify(struct vireo_vq_dev *dev, bool enable)
{
	bool event_idx = dev->options & VIREO_VQ_OPT_EVENT_IDX;
	uint16_t flags;

	if (dev->layout == VIREO_VQ_SPLIT)
		vireo_ring_split_suppress(&dev->split.used->flags,
			(uint16_t *)&dev->split.used->ring[dev->size],
			event_idx, dev->last_avail, enable);
	else
		vireo_ring_packed_suppress(dev->packed.device_event, event_idx,
			dev->last_avail, dev->avail_wrap_counter, enable);
	/* Full fence: our request against our load of the avail side.
	 * Pairs with the driver's publish then load (kick_prepare). */
	vireo_full_fence();
	if (dev->layout == VIREO_VQ_SPLIT)
		return VIREO_READ_ONCE(dev->split.avail->idx) != dev->last_avail;
	flags = VIREO_READ_ONCE(dev->packed.desc[dev->last_avail].flags);
	return (bool)(flags & VIRTQ_DESC_F_AVAIL) == dev->avail_wrap_counter &&
		(bool)(flags & VIRTQ_DESC_F_USED) != dev->avail_wrap_counter;
}
