/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The Vireo Authors
 */

/*
 * Packed layout, driver role: hot inline bodies. Included by vring.h only.
 *
 * Ring slots are used in order; buffer ids are ours, handed out from the
 * free_ids stack.  With IN_ORDER a buffer's id is the ring slot of its
 * first descriptor instead (unique: the device completes in order, so a
 * slot comes round again only after the buffer that began there is
 * done), which makes free_cursor always next_avail and the id after a
 * buffer the slot after its descriptors, as in split.
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

/* Takes the id of a buffer of 'ndesc' descriptors about to be added at
 * next_avail: off the stack, or in order that slot (see top).  There is
 * an id for every free ring slot: a buffer holds one id and at least
 * one slot. */
static inline uint16_t
vireo_packed_take_id(struct vireo_vq *vq, uint16_t ndesc)
{
	uint16_t id = vq->free_cursor;
	uint32_t next;

	if (vq->options & VIREO_VQ_OPT_IN_ORDER) {
		next = (uint32_t)id + ndesc;
		vq->free_cursor = next >= vq->size ? next - vq->size : next;
		return id;
	}
	return vireo_vq_pop_free_id(vq);
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
	id = vireo_packed_take_id(vq, 1);
	d = &vq->packed.ring.desc[pos];
	d->addr = addr;
	d->len = len;
	d->id = id;
	vireo_packed_put_flags(vq, pos, flags, true);
	vireo_vq_slot_fill(vq, id, cookie, buflen, 1);
	return 0;
}

/* AVAIL and USED as the device writes them on a used slot of phase 'wrap'. */
static inline uint16_t
vireo_packed_used_bits(bool wrap)
{
	return wrap ? VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED : 0;
}

/* ---- runs of one-descriptor adds (see struct vireo_vq_run) ---- */

static inline void
vireo_vq_run_begin_packed(const struct vireo_vq *vq, struct vireo_vq_run *r)
{
	r->desc.packed = vq->packed.ring.desc;
	r->slot = vq->slot;
	r->size = vq->size;
	r->pos = vq->packed.next_avail;
	r->start = r->pos;
	r->id = vq->free_cursor;
	r->free_ids = vq->free_ids;
	r->bits = vq->packed.avail_used_flags;
	r->start_bits = r->bits;
	r->hold = !vq->packed.stage.pending;
	r->held_flags = 0;
}

/* @first: the run's first add (only it may be the head to withhold). */
static inline void
vireo_vq_run_add_packed(struct vireo_vq_run *r, uint64_t addr, uint32_t len,
			uint16_t flags, uint32_t buflen, void *cookie,
			const bool in_order, const bool first)
{
	uint32_t pos = r->pos;
	/* in order the id is the slot (see top), free_cursor == next_avail */
	uint32_t id = in_order ? pos : r->free_ids[--r->id];
	struct vireo_packed_desc *d = &r->desc.packed[pos];
	struct vireo_vq_slot *s = &r->slot[id];

	d->addr = addr;
	d->len = len;
	d->id = (uint16_t)id;
	/* The first head since the publish keeps its flags back for the
	 * release store of vireo_vq_publish (see top); a plain store makes
	 * any later one available, which the device cannot see before it
	 * acquires that first one. */
	if (first && r->hold) {
		r->hold = false;
		r->held_flags = flags | r->bits;
	} else {
		VIREO_WRITE_ONCE(d->flags, (uint16_t)(flags | r->bits));
	}
	vireo_vq_slot_fill1(s, cookie, buflen);
	if (VIREO_UNLIKELY(++pos == r->size)) {
		pos = 0;
		r->bits ^= VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED;
	}
	r->pos = pos;
}

static inline void
vireo_vq_run_end_packed(struct vireo_vq *vq, const struct vireo_vq_run *r,
			const bool in_order)
{
	/* at most a ring: the phase says whether it wrapped */
	uint32_t count = r->pos - r->start +
		(r->bits != r->start_bits ? r->size : 0);

	if (count == 0)
		return;
	if (!vq->packed.stage.pending) {
		vq->packed.stage.pending = true;
		vq->packed.stage.pos = (uint16_t)r->start;
		vq->packed.stage.flags = (uint16_t)r->held_flags;
	}
	vq->packed.next_avail = (uint16_t)r->pos;
	vq->packed.avail_wrap_counter = r->bits == VIRTQ_DESC_F_AVAIL;
	vq->packed.avail_used_flags = (uint16_t)r->bits;
	vireo_vq_added1(vq, (uint16_t)count,
			(uint16_t)(in_order ? r->pos : r->id));
}

/*
 * Burst of one-descriptor buffers from arrays; returns how many were
 * added (stops when descriptors run out, or at a NULL cookie, which
 * would post a buffer that looks free and is lost for good).
 */
static inline uint16_t
vireo_vq_add1_burst_packed(struct vireo_vq *vq, const struct vireo_buf *bufs,
			   void *const *cookies, uint16_t n, uint16_t flags)
{
	struct vireo_vq_run r;
	bool writable = flags & VIRTQ_DESC_F_WRITE;
	bool in_order = vq->options & VIREO_VQ_OPT_IN_ORDER;
	uint16_t i;

	n = n < vq->nfree ? n : vq->nfree;
	vireo_vq_run_begin_packed(vq, &r);
	for (i = 0; i < n && VIREO_LIKELY(cookies[i] != NULL); i++)
		vireo_vq_run_add_packed(&r, bufs[i].addr, bufs[i].len, flags,
					writable ? bufs[i].len : 0, cookies[i],
					in_order, i == 0);
	vireo_vq_run_end_packed(vq, &r, in_order);
	return i;
}

/*
 * Why a reclaim loop stopped at the descriptor at 'pos' (phase bits
 * 'used_bits'): 0 when it is not used yet (our own avail bits), else
 * the code of the first check it fails, in the order the loops check
 * (flags, id in range, id outstanding, length).  Out of the loops so
 * that they carry no error state; it reads the entry again, and a
 * device that changed it meanwhile gets the verdict on what it wrote
 * last, as nothing was taken from it.
 */
static __attribute__((noinline)) int
vireo_packed_judge(const struct vireo_vq *vq, uint32_t pos, uint32_t used_bits,
		   uint32_t want_id)
{
	const struct vireo_packed_desc *d = &vq->packed.ring.desc[pos];
	uint32_t flags = __atomic_load_n(&d->flags, __ATOMIC_ACQUIRE) &
		(VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED);
	uint32_t id, len;

	if (flags != used_bits)
		return flags == vireo_packed_avail_bits(used_bits != 0) ? 0 :
			VIREO_VQ_EBADFLAGS;
	id = VIREO_READ_ONCE(d->id);
	len = VIREO_READ_ONCE(d->len);
	/* in order, an entry for another id is a batch: begin judges it */
	if (want_id != UINT32_MAX && id != want_id)
		return 0;
	return vireo_vq_judge_entry(vq, id, len);
}

/* Descriptors a reclaim moved over, from 'start' to 'pos' (at most a
 * ring: the phase says whether it wrapped). */
static inline uint32_t
vireo_packed_moved(uint32_t start, uint32_t pos, bool flipped, uint32_t size)
{
	return pos - start + (flipped ? size : 0);
}

/*
 * Reclaim run, without IN_ORDER: every used descriptor names its own
 * buffer.  Same checks as vireo_vq_get_used, in one loop over locals.
 * Returns how many were taken; a bad entry stops the run with its code
 * in *err and nothing of it taken (the caller decides whether to break:
 * see vireo_vq_reclaim_packed).  The vector reclaim (vring_packed_vec.h)
 * runs this on a batch its quick check refused, for the exact answer.
 * @lens may be NULL (a constant NULL drops the stores).
 */
static inline uint16_t
vireo_vq_reclaim_packed_run(struct vireo_vq *vq, void **cookies,
			    uint32_t *lens, uint16_t n, int *err)
{
	const struct vireo_packed_desc *ring = vq->packed.ring.desc;
	struct vireo_vq_slot *slot = vq->slot;
	const uint32_t size = vq->size, start = vq->last_used;
	const uint32_t start_bits =
		vireo_packed_used_bits(vq->used_wrap_counter);
	uint32_t pos = start, used_bits = start_bits;
	uint16_t *free_ids = vq->free_ids;
	uint32_t top = vq->free_cursor, done;

	/* Never past what was published: older slots hold old phases. */
	if (n > vq->in_flight)
		n = vq->in_flight;
	for (done = 0; done < n; done++) {
		const struct vireo_packed_desc *d = &ring[pos];
		/* Acquire: pairs with the device's release store of the
		 * used flags made after it wrote id and len. */
		uint32_t flags = __atomic_load_n(&d->flags, __ATOMIC_ACQUIRE) &
			(VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED);
		struct vireo_vq_slot *s;
		uint32_t id, len;
		void *cookie;

		if (VIREO_UNLIKELY(flags != used_bits))
			break;
		id = VIREO_READ_ONCE(d->id);
		len = VIREO_READ_ONCE(d->len);
		if (VIREO_UNLIKELY(id >= size))
			break;
		s = &slot[id];
		cookie = s->cookie;
		/* the length matters only to a caller that takes it */
		if (VIREO_UNLIKELY(cookie == NULL ||
				   (lens != NULL &&
				    vireo_vq_used_len(s, &len) != 0)))
			break;
		cookies[done] = cookie;
		if (lens != NULL)
			lens[done] = len;
		s->cookie = NULL;
		/* The device skips the slots of the whole chain (2.8.21).
		 * A branch, not an add of ndesc: the next entry's address
		 * must not wait for this slot's load (with cold lines that
		 * chain of loads would cost a cache miss per entry). */
		pos++;
		if (VIREO_UNLIKELY(s->ndesc != 1))
			pos += s->ndesc - 1u;
		if (VIREO_UNLIKELY(pos >= size)) {
			pos -= size;
			used_bits ^= VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED;
		}
		free_ids[top++] = (uint16_t)id;
	}
	*err = done < n ? vireo_packed_judge(vq, pos, used_bits, UINT32_MAX) :
		0;
	vq->last_used = (uint16_t)pos;
	vq->used_wrap_counter = used_bits != 0;
	vq->free_cursor = (uint16_t)top;
	vq->nfree += vireo_packed_moved(start, pos, used_bits != start_bits,
					size);
	vq->in_flight -= done;
	return (uint16_t)done;
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
	const uint32_t size = vq->size, start = vq->last_used;
	const uint32_t start_bits =
		vireo_packed_used_bits(vq->used_wrap_counter);
	/* in order the next id is the slot (see top): pos says both */
	uint32_t pos = start, used_bits = start_bits, done;

	/* Never past what was published: older slots hold old phases;
	 * within it the next id is outstanding. */
	if (n > vq->in_flight)
		n = vq->in_flight;
	for (done = 0; done < n; done++) {
		const struct vireo_packed_desc *d = &ring[pos];
		/* Acquire: pairs with the device's release store of the
		 * used flags made after it wrote id and len. */
		uint32_t flags = __atomic_load_n(&d->flags, __ATOMIC_ACQUIRE);
		struct vireo_vq_slot *s = &slot[pos];
		uint32_t len;

		/* Not used in this phase (not yet, or a lie), a batch, or
		 * a length beyond the buffer: vireo_vq_inorder_begin says. */
		if ((flags & (VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED)) !=
		    used_bits || VIREO_READ_ONCE(d->id) != pos)
			break;
		len = VIREO_READ_ONCE(d->len);
		if (VIREO_UNLIKELY(vireo_vq_used_len(s, &len) != 0))
			break;
		cookies[done] = s->cookie;
		if (lens != NULL)
			lens[done] = len;
		s->cookie = NULL;
		/* The device skips the slots of the whole chain (2.8.21).
		 * A branch, not an add of ndesc: the next entry's address
		 * must not wait for this slot's load (with cold lines that
		 * chain of loads would cost a cache miss per entry). */
		pos++;
		if (VIREO_UNLIKELY(s->ndesc != 1))
			pos += s->ndesc - 1u;
		if (VIREO_UNLIKELY(pos >= size)) {
			pos -= size;
			used_bits ^= VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED;
		}
	}
	if (done == 0)
		return 0;
	vq->last_used = (uint16_t)pos;
	vq->used_wrap_counter = used_bits != 0;
	vireo_vq_inorder_singles_done(vq, (uint16_t)pos,
		(uint16_t)vireo_packed_moved(start, pos,
					     used_bits != start_bits, size),
		(uint16_t)done);
	return (int)done;
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
