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

/*
 * Burst of one-descriptor buffers (the PMD's mbufs): the ring position,
 * phase and free list are kept in locals for the loop and written back
 * once.  Returns how many were added (stops when descriptors run out).
 */
static inline uint16_t
vireo_vq_add1_burst_packed(struct vireo_vq *vq, const struct vireo_buf *bufs,
			   void *const *cookies, uint16_t n, uint16_t flags)
{
	struct vireo_packed_desc *ring = vq->packed.ring.desc;
	struct vireo_vq_slot *slot = vq->slot;
	uint16_t pos = vq->packed.next_avail, free_head = vq->free_head;
	uint16_t bits = vq->packed.avail_used_flags;
	bool wrap = vq->packed.avail_wrap_counter;
	bool in_order = vq->options & VIREO_VQ_OPT_IN_ORDER;
	uint16_t i, id;

	n = n < vq->nfree ? n : vq->nfree;
	for (i = 0; i < n; i++) {
		struct vireo_packed_desc *d = &ring[pos];
		uint32_t buflen = flags & VIRTQ_DESC_F_WRITE ? bufs[i].len : 0;

		/* A NULL cookie would post a buffer that looks free (lost
		 * for good); the single add refuses it, here we stop. */
		if (VIREO_UNLIKELY(cookies[i] == NULL))
			break;
		id = free_head;
		/* In order the list is the ring order: no load to chase. */
		free_head = in_order ? (id + 1 == vq->size ? 0 : id + 1) :
			slot[id].next;
		d->addr = bufs[i].addr;
		d->len = bufs[i].len;
		d->id = id;
		vireo_packed_stage_flags(ring, &vq->packed.stage, pos,
					 flags | bits, true);
		slot[id].cookie = cookies[i];
		slot[id].buflen = buflen;
		slot[id].ndesc = 1;
		if (++pos == vq->size) {
			pos = 0;
			wrap = !wrap;
			bits = vireo_packed_avail_bits(wrap);
		}
	}
	vq->packed.next_avail = pos;
	vq->packed.avail_wrap_counter = wrap;
	vq->packed.avail_used_flags = bits;
	vireo_vq_added1(vq, i, free_head);
	return i;
}

/*
 * Reclaim run, without IN_ORDER: every used descriptor names its own
 * buffer.  Same checks as vireo_vq_get_used, in one loop over locals.
 * Returns how many were taken; a bad entry stops the run with its code
 * in *err and nothing of it taken (the caller decides whether to break:
 * see vireo_vq_reclaim_packed).  The vector reclaim (vring_packed_vec.h)
 * runs this on a batch its quick check refused, for the exact answer.
 */
static inline uint16_t
vireo_vq_reclaim_packed_run(struct vireo_vq *vq, void **cookies,
			    uint32_t *lens, uint16_t n, int *err)
{
	const struct vireo_packed_desc *ring = vq->packed.ring.desc;
	struct vireo_vq_slot *slot = vq->slot;
	uint16_t pos = vq->last_used, free_head = vq->free_head;
	uint16_t size = vq->size, done = 0, freed = 0;
	bool wrap = vq->used_wrap_counter;

	*err = 0;
	/* Never past what was published: older slots hold old phases. */
	if (n > vq->in_flight)
		n = vq->in_flight;
	while (done < n) {
		const struct vireo_packed_desc *d = &ring[pos];
		/* Acquire: pairs with the device's release store of the
		 * used flags made after it wrote id and len. */
		uint16_t flags = __atomic_load_n(&d->flags, __ATOMIC_ACQUIRE);
		bool avail = flags & VIRTQ_DESC_F_AVAIL;
		bool used = flags & VIRTQ_DESC_F_USED;
		struct vireo_vq_slot *s;
		uint32_t id, len;

		if (VIREO_UNLIKELY(avail != used || used != wrap)) {
			/* Our own avail bits: not used yet.  Anything else
			 * cannot be on a slot we published this lap. */
			if (avail != used && avail == wrap)
				break;
			*err = VIREO_VQ_EBADFLAGS;
			break;
		}
		id = VIREO_READ_ONCE(d->id);
		len = VIREO_READ_ONCE(d->len);
		if (VIREO_UNLIKELY(id >= size)) {
			*err = VIREO_VQ_EBADID;
			break;
		}
		s = &slot[id];
		if (VIREO_UNLIKELY(s->cookie == NULL)) {
			*err = VIREO_VQ_ENOTPOSTED;
			break;
		}
		if (VIREO_UNLIKELY(vireo_vq_used_len(s, &len) != 0)) {
			*err = VIREO_VQ_EBADLEN;
			break;
		}
		cookies[done] = s->cookie;
		lens[done] = len;
		s->cookie = NULL;
		freed += s->ndesc;
		/* The device skips the slots of the whole chain (2.8.21). */
		pos += s->ndesc;
		if (pos >= size) {
			pos -= size;
			wrap = !wrap;
		}
		s->next = free_head;
		free_head = id;
		done++;
	}
	vq->last_used = pos;
	vq->used_wrap_counter = wrap;
	vq->free_head = free_head;
	vq->nfree += freed;
	vq->in_flight -= done;
	return done;
}

/*
 * Reclaim burst, without IN_ORDER.  Returns how many were taken, or the
 * error of the first entry when it is bad (the ring is then broken;
 * entries before it were returned by this call and the error comes
 * with the next).
 */
static inline int
vireo_vq_reclaim_packed(struct vireo_vq *vq, void **cookies, uint32_t *lens,
			uint16_t n)
{
	int err;
	uint16_t done = vireo_vq_reclaim_packed_run(vq, cookies, lens, n, &err);

	if (VIREO_UNLIKELY(err != 0) && done == 0)
		return vireo_vq_break(vq, err);
	return done;
}

/* In order, entries that each name the next buffer: see
 * vireo_vq_inorder_singles_split. */
static inline int
vireo_vq_inorder_singles_packed(struct vireo_vq *vq, void **cookies,
				uint32_t *lens, uint16_t n)
{
	const struct vireo_packed_desc *ring = vq->packed.ring.desc;
	struct vireo_vq_slot *slot = vq->slot;
	uint16_t pos = vq->last_used, size = vq->size;
	uint16_t next = vq->inorder_next, done = 0, freed = 0, taken = 0;
	bool wrap = vq->used_wrap_counter;

	/* Never past what was published: older slots hold old phases;
	 * within it the next id is outstanding. */
	if (n > vq->in_flight)
		n = vq->in_flight;
	while (done < n) {
		const struct vireo_packed_desc *d = &ring[pos];
		/* Acquire: pairs with the device's release store of the
		 * used flags made after it wrote id and len. */
		uint16_t flags = __atomic_load_n(&d->flags, __ATOMIC_ACQUIRE);
		struct vireo_vq_slot *s;

		/* Not used in this phase (not yet, or a lie): begin says. */
		if (!!(flags & VIRTQ_DESC_F_AVAIL) != wrap ||
		    !!(flags & VIRTQ_DESC_F_USED) != wrap ||
		    VIREO_READ_ONCE(d->id) != next)
			break;
		s = &slot[next];
		if (!vireo_vq_inorder_hand_out(s, VIREO_READ_ONCE(d->len),
					       &cookies[done], &lens[done]))
			break;
		taken = next;
		freed += s->ndesc;
		/* The device skips the slots of the whole chain (2.8.21). */
		pos += s->ndesc;
		if (pos >= size) {
			pos -= size;
			wrap = !wrap;
		}
		next = next + 1 == size ? 0 : next + 1;
		done++;
	}
	if (done == 0)
		return 0;
	vq->last_used = pos;
	vq->used_wrap_counter = wrap;
	vireo_vq_inorder_singles_done(vq, next, taken, lens[done - 1], freed,
				      done);
	return done;
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
