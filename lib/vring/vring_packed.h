/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The Vireo Authors
 */

/*
 * Packed layout, driver role: hot inline bodies. Included by vring.h only.
 *
 * Ring slots are used in order; buffer ids are ours, handed out from a
 * free list through vireo_vq_slot.next (never relinked with IN_ORDER, so
 * ids then come 0,1,2,.. and the device's batch id tells how far to go).
 *
 * Publishing: descriptors are written as they are added, except the
 * flags of the first head staged since the last publish, withheld in
 * packed.stage. vireo_vq_publish stores that one word with
 * release semantics. The device reads the ring in order and must see
 * that head available before it looks at any later slot, and its
 * acquire of that word makes every earlier store visible, so the later
 * heads written with plain stores are safe: one release per burst.
 */

#ifndef VIREO_VRING_PACKED_H
#define VIREO_VRING_PACKED_H

#ifndef VIREO_VRING_H
#error "include vring.h, not vring_packed.h"
#endif

/* AVAIL/USED bits a driver writes to offer a slot in phase 'wrap'. */
static inline uint16_t
vireo_packed_avail_bits(bool wrap)
{
	return wrap ? VIRTQ_DESC_F_AVAIL : VIRTQ_DESC_F_USED;
}

/* Writes the flags of the slot just filled, or withholds them if it is
 * the first head staged since the publish (see top); then moves on. */
static inline void
vireo_packed_put_flags(struct vireo_vq *vq, uint16_t pos, uint16_t flags,
		       bool head)
{
	vireo_packed_stage_flags(vq->packed.ring.desc, &vq->packed.stage, pos,
				 flags | vq->packed.avail_used_flags, head);
	vireo_packed_advance(&vq->packed.next_avail,
			     &vq->packed.avail_wrap_counter, 1, vq->size);
	if (vq->packed.next_avail == 0)
		vq->packed.avail_used_flags =
			vireo_packed_avail_bits(vq->packed.avail_wrap_counter);
}

/* Takes a buffer id off the free list. */
static inline uint16_t
vireo_packed_take_id(struct vireo_vq *vq)
{
	uint16_t id = vq->free_head;

	vq->free_head = vq->slot[id].next;
	return id;
}

static inline int
vireo_vq_add1_packed(struct vireo_vq *vq, uint64_t addr, uint32_t len,
		     uint16_t flags, uint32_t buflen, void *cookie)
{
	struct vireo_packed_desc *d;
	uint16_t pos = vq->packed.next_avail;
	uint16_t id;
	int rc = vireo_vq_add_check(vq, 1, cookie);

	if (VIREO_UNLIKELY(rc != 0))
		return rc;
	id = vireo_packed_take_id(vq);
	d = &vq->packed.ring.desc[pos];
	d->addr = addr;
	d->len = len;
	d->id = id;
	vireo_packed_put_flags(vq, pos, flags, true);
	vireo_vq_slot_fill(vq, id, cookie, buflen, 1);
	return 0;
}

static inline void
vireo_vq_free_packed(struct vireo_vq *vq, uint16_t id)
{
	vq->nfree += vq->slot[id].ndesc;
	/* The device skips the slots of the whole chain (spec 2.8.21). */
	vireo_packed_advance(&vq->last_used, &vq->used_wrap_counter,
			     vq->slot[id].ndesc, vq->size);
	if (vq->options & VIREO_VQ_OPT_IN_ORDER)
		return;		/* ids stay in ring order, see top */
	vq->slot[id].next = vq->free_head;
	vq->free_head = id;
}

static inline int
vireo_vq_fetch_packed(struct vireo_vq *vq, uint32_t *id, uint32_t *len,
		      uint16_t *ready)
{
	const struct vireo_packed_desc *d;
	uint16_t flags;
	bool avail, used;

	/* Nothing published: the slot may hold any earlier phase. */
	if (vq->in_flight == 0)
		return 0;
	d = &vq->packed.ring.desc[vq->last_used];
	/* Acquire: pairs with the device's release store of the used
	 * flags made after it wrote id and len. */
	flags = __atomic_load_n(&d->flags, __ATOMIC_ACQUIRE);
	avail = flags & VIRTQ_DESC_F_AVAIL;
	used = flags & VIRTQ_DESC_F_USED;
	/* We wrote this slot in the current phase (it is in flight), so
	 * it shows either our avail bits (not used yet) or the device's
	 * used bits for this phase. Anything else is not a legal state. */
	if (avail != used) {
		if (avail == vq->used_wrap_counter)
			return 0;
		return vireo_vq_break(vq, VIREO_VQ_EBADFLAGS);
	}
	if (VIREO_UNLIKELY(used != vq->used_wrap_counter))
		return vireo_vq_break(vq, VIREO_VQ_EBADFLAGS);
	*id = VIREO_READ_ONCE(d->id);
	*len = VIREO_READ_ONCE(d->len);
	*ready = vq->in_flight;
	return 1;
}

static inline void
vireo_vq_publish_packed(struct vireo_vq *vq)
{
	/* One release for the whole burst, see vireo_packed_stage_publish */
	vireo_packed_stage_publish(vq->packed.ring.desc, &vq->packed.stage);
	/* the device's event offset counts ring slots */
	vireo_vq_published(vq, vq->staged_descs);
}

/* Does the device want a kick for the 'added' slots published since the
 * last decision? The caller has fenced. */
static inline int
vireo_vq_kick_wanted_packed(const struct vireo_vq *vq, uint16_t added)
{
	const struct vireo_packed_stage *st = &vq->packed.stage;

	/* The window ends where the published part ends: at the first
	 * staged head if some adds are not published yet. */
	if (st->pending)
		return vireo_ring_packed_wants(vq->packed.ring.device_event,
			st->pos, st->flags & VIRTQ_DESC_F_AVAIL, added, vq->size);
	return vireo_ring_packed_wants(vq->packed.ring.device_event,
		vq->packed.next_avail, vq->packed.avail_wrap_counter, added,
		vq->size);
}

static inline bool
vireo_vq_used_pending_packed(const struct vireo_vq *vq)
{
	uint16_t flags;
	bool used;

	if (vq->in_flight == 0)
		return false;
	flags = VIREO_READ_ONCE(vq->packed.ring.desc[vq->last_used].flags);
	used = flags & VIRTQ_DESC_F_USED;
	return used == (bool)(flags & VIRTQ_DESC_F_AVAIL) &&
		used == vq->used_wrap_counter;
}

#endif /* VIREO_VRING_PACKED_H */
