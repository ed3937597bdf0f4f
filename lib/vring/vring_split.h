/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The Vireo Authors
 */

/*
 * Split layout, driver role: hot inline bodies. Included by vring.h only.
 *
 * Buffer ids are head descriptor indices. Free descriptors sit on the
 * free_ids stack, and a chain's links are copied in vireo_vq_slot.next
 * (ours, so the device cannot corrupt them).  With IN_ORDER there is no
 * stack: descriptors are taken in ring order 0,1,..,size-1,0,.. and
 * chains take consecutive ones, which is what lets the device complete
 * a batch with one used entry.
 */

#ifndef VIREO_VRING_SPLIT_H
#define VIREO_VRING_SPLIT_H

#ifndef VIREO_VRING_H
#error "include vring.h, not vring_split.h"
#endif

static inline uint16_t *
vireo_split_used_event(const struct vireo_ring_split *r, uint16_t size)
{
	return &r->avail->ring[size];
}

static inline uint16_t *
vireo_split_avail_event(const struct vireo_ring_split *r, uint16_t size)
{
	return (uint16_t *)&r->used->ring[size];
}

/* Takes a free descriptor (the caller checked nfree): in order the
 * next in ring order (see top), else the top of the stack. */
static inline uint16_t
vireo_split_take_free(struct vireo_vq *vq)
{
	uint16_t idx;

	if (vq->options & VIREO_VQ_OPT_IN_ORDER) {
		idx = vq->free_cursor;
		vq->free_cursor = (idx + 1) & (vq->size - 1);
		return idx;
	}
	return vireo_vq_pop_free_id(vq);
}

/* Offers head 'head' in the avail ring; visible at the next publish. */
static inline void
vireo_split_offer(struct vireo_vq *vq, uint16_t head)
{
	uint16_t pos = vq->split.avail_idx & (vq->size - 1);

	vq->split.ring.avail->ring[pos] = head;
	vq->split.avail_idx++;
}

static inline int
vireo_vq_add1_split(struct vireo_vq *vq, uint64_t addr, uint32_t len,
		    uint16_t flags, uint32_t buflen, void *cookie)
{
	struct vireo_split_desc *d;
	uint16_t head;
	int rc = vireo_vq_add_check(vq, 1, cookie);

	if (VIREO_UNLIKELY(rc != 0))
		return rc;
	head = vireo_split_take_free(vq);
	d = &vq->split.ring.desc[head];
	d->addr = addr;
	d->len = len;
	d->flags = flags;
	d->next = 0;	/* as vireo_vq_run_add_split */
	vireo_vq_slot_fill(vq, head, cookie, buflen, 1);
	vireo_split_offer(vq, head);
	return 0;
}

/* ---- runs of one-descriptor adds (see struct vireo_vq_run) ---- */

static inline void
vireo_vq_run_begin_split(const struct vireo_vq *vq, struct vireo_vq_run *r)
{
	r->desc.split = vq->split.ring.desc;
	r->avail = vq->split.ring.avail->ring;
	r->slot = vq->slot;
	r->size = vq->size;
	r->pos = vq->split.avail_idx;
	r->start = r->pos;
	r->id = vq->free_cursor;
	r->free_ids = vq->free_ids;
}

static inline void
vireo_vq_run_add_split(struct vireo_vq_run *r, uint64_t addr, uint32_t len,
		       uint16_t flags, uint32_t buflen, void *cookie,
		       const bool in_order)
{
	uint32_t mask = r->size - 1;
	uint32_t head = in_order ? r->id : r->free_ids[--r->id];
	struct vireo_split_desc *d = &r->desc.split[head];
	struct vireo_vq_slot *s = &r->slot[head];

	if (in_order)
		r->id = (head + 1) & mask;
	d->addr = addr;
	d->len = len;
	d->flags = flags;
	d->next = 0;	/* no chain: ignored, cleared with the same store */
	/* plain: the release store of avail->idx at the publish covers it */
	r->avail[r->pos++ & mask] = (uint16_t)head;
	vireo_vq_slot_fill1(s, cookie, buflen);
}

static inline void
vireo_vq_run_end_split(struct vireo_vq *vq, const struct vireo_vq_run *r)
{
	vq->split.avail_idx = (uint16_t)r->pos;
	/* the avail index runs free: how far it went is how many */
	vireo_vq_added1(vq, (uint16_t)(r->pos - r->start), (uint16_t)r->id);
}

/* Burst of one-descriptor buffers; see vireo_vq_add1_burst_packed. */
static inline uint16_t
vireo_vq_add1_burst_split(struct vireo_vq *vq, const struct vireo_buf *bufs,
			  void *const *cookies, uint16_t n, uint16_t flags)
{
	struct vireo_vq_run r;
	bool writable = flags & VIRTQ_DESC_F_WRITE;
	bool in_order = vq->options & VIREO_VQ_OPT_IN_ORDER;
	uint16_t i;

	n = n < vq->nfree ? n : vq->nfree;
	vireo_vq_run_begin_split(vq, &r);
	for (i = 0; i < n && VIREO_LIKELY(cookies[i] != NULL); i++)
		vireo_vq_run_add_split(&r, bufs[i].addr, bufs[i].len, flags,
				       writable ? bufs[i].len : 0, cookies[i],
				       in_order);
	vireo_vq_run_end_split(vq, &r);
	return i;
}

/*
 * How many used entries a reclaim of n may take without IN_ORDER: what
 * an earlier acquire of used->idx saw, else a fresh acquire.  Negative
 * VIREO_VQ_EBADIDX (the vq broken) when the index is impossible and
 * nothing seen before is left to return.
 */
static inline int
vireo_vq_split_ready(struct vireo_vq *vq, uint16_t n)
{
	uint16_t last = vq->last_used;
	uint16_t ready = vq->split.used_idx_seen - last;
	uint16_t seen, fresh;

	if (ready < n) {
		/* Acquire: pairs with the device's release store of
		 * used->idx made after it wrote the used entries. */
		seen = __atomic_load_n(&vq->split.ring.used->idx,
				       __ATOMIC_ACQUIRE);
		fresh = seen - last;
		/* Backwards reads as a huge count: caught here too; so is
		 * a step back behind what an earlier load saw. */
		if (VIREO_UNLIKELY(fresh > vq->in_flight || fresh < ready)) {
			/* Entries an earlier load saw are good: return them
			 * first, as vireo_vq_get_used would (it loads only
			 * once they are taken); the next call loads again
			 * and reports this. */
			if (ready == 0)
				return vireo_vq_break(vq, VIREO_VQ_EBADIDX);
		} else {
			ready = fresh;
			vq->split.used_idx_seen = seen;
		}
	}
	return ready;
}

/* Why a reclaim run stopped at used entry 'e' (see vireo_packed_judge). */
static __attribute__((noinline)) int
vireo_split_judge(const struct vireo_vq *vq,
		  const struct vireo_split_used_elem *e)
{
	return vireo_vq_judge_entry(vq, VIREO_READ_ONCE(e->id),
				    VIREO_READ_ONCE(e->len));
}

/*
 * Reclaim run without IN_ORDER over n entries the caller knows ready
 * (vireo_vq_split_ready); see vireo_vq_reclaim_packed_run.
 */
static inline uint16_t
vireo_vq_reclaim_split_run(struct vireo_vq *vq, void **cookies,
			   uint32_t *lens, uint16_t n, int *err)
{
	const struct vireo_split_used_elem *used_ring = vq->split.ring.used->ring;
	struct vireo_vq_slot *slot = vq->slot;
	const uint32_t size = vq->size, mask = size - 1;
	const uint16_t last = vq->last_used;
	uint16_t *free_ids = vq->free_ids;
	uint32_t top = vq->free_cursor, freed = 0, done;

	for (done = 0; done < n; done++) {
		const struct vireo_split_used_elem *u =
			&used_ring[(last + done) & mask];
		uint32_t id = VIREO_READ_ONCE(u->id);
		uint32_t len = VIREO_READ_ONCE(u->len);
		struct vireo_vq_slot *s;
		uint32_t next, k;
		void *cookie;

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
		freed += s->ndesc;
		/* The chain goes back whole, its head on top: the next add
		 * takes the descriptors in the order this one had them. */
		if (VIREO_UNLIKELY(s->ndesc != 1)) {
			next = id;
			for (k = s->ndesc; k-- > 0; next = slot[next].next)
				free_ids[top + k] = (uint16_t)next;
			top += s->ndesc;
		} else {
			free_ids[top++] = (uint16_t)id;
		}
	}
	*err = done < n ? vireo_split_judge(vq,
		&used_ring[(last + done) & mask]) : 0;
	vq->last_used = (uint16_t)(last + done);
	vq->free_cursor = (uint16_t)top;
	vq->nfree += freed;
	vq->in_flight -= done;
	return (uint16_t)done;
}

/* Reclaim burst without IN_ORDER; see vireo_vq_reclaim_packed. */
static inline int
vireo_vq_reclaim_split(struct vireo_vq *vq, void **cookies, uint32_t *lens,
		       uint16_t n)
{
	int ready = vireo_vq_split_ready(vq, n);
	uint16_t done;
	int err;

	if (VIREO_UNLIKELY(ready < 0))
		return ready;
	if (n > ready)
		n = ready;
	done = vireo_vq_reclaim_split_run(vq, cookies, lens, n, &err);
	if (VIREO_UNLIKELY(err != 0) && done == 0)
		return vireo_vq_break(vq, err);
	return done;
}

/*
 * In order, the common case: each used entry names the next buffer (the
 * device completed them one at a time) and needs none of the batch
 * bookkeeping of vireo_vq_inorder_begin/take.  Takes such entries in
 * one loop, up to n, and stops at the first that is anything else (a
 * batch, a bad one) for begin to judge.  Leaves the state begin and take
 * would leave.  Acquires used->idx as vireo_vq_fetch_split does.
 */
static inline int
vireo_vq_inorder_singles_split(struct vireo_vq *vq, void **cookies,
			       uint32_t *lens, uint16_t n, bool *may_load)
{
	const struct vireo_split_used_elem *used_ring = vq->split.ring.used->ring;
	struct vireo_vq_slot *slot = vq->slot;
	const uint32_t mask = vq->size - 1;
	const uint16_t last = vq->last_used, first = vq->inorder_next;
	uint32_t next = first, done;
	uint16_t count = vq->split.used_idx_seen - last, seen;

	if (count == 0) {
		if (!*may_load)
			return 0;
		*may_load = false;
		/* Acquire: pairs with the device's release store of
		 * used->idx made after it wrote the used entries. */
		seen = __atomic_load_n(&vq->split.ring.used->idx,
				       __ATOMIC_ACQUIRE);
		count = seen - last;
		if (VIREO_UNLIKELY(count > vq->in_flight))
			return vireo_vq_break(vq, VIREO_VQ_EBADIDX);
		vq->split.used_idx_seen = seen;
	}
	/* Within what is in flight, the next id is outstanding. */
	if (n > count)
		n = count;
	for (done = 0; done < n; done++) {
		const struct vireo_split_used_elem *u =
			&used_ring[(last + done) & mask];
		struct vireo_vq_slot *s = &slot[next];
		uint32_t len;

		/* A batch, or a bad entry: vireo_vq_inorder_begin says. */
		if (VIREO_READ_ONCE(u->id) != next)
			break;
		len = VIREO_READ_ONCE(u->len);
		if (VIREO_UNLIKELY(vireo_vq_used_len(s, &len) != 0))
			break;
		cookies[done] = s->cookie;
		if (lens != NULL)
			lens[done] = len;
		s->cookie = NULL;
		/* a branch, not an add: see vireo_vq_reclaim_packed_run */
		next = (next + 1) & mask;
		if (VIREO_UNLIKELY(s->ndesc != 1))
			next = (next + s->ndesc - 1u) & mask;
	}
	if (done == 0)
		return 0;
	vq->last_used = (uint16_t)(last + done);
	/* Descriptors freed: from the first id to the next, at least one
	 * each, at most the ring (a whole ring round comes back to it). */
	vireo_vq_inorder_singles_done(vq, (uint16_t)next,
		(uint16_t)(((next - first - 1) & mask) + 1), (uint16_t)done);
	return (int)done;
}

static inline int
vireo_vq_fetch_split(struct vireo_vq *vq, bool *may_load, uint32_t *id,
		     uint32_t *len, uint16_t *ready)
{
	const struct vireo_split_used_elem *e;
	uint16_t seen, count;

	count = vq->split.used_idx_seen - vq->last_used;
	if (count == 0) {
		if (!*may_load)
			return 0;
		*may_load = false;
		/* Acquire: pairs with the device's release store of
		 * used->idx made after it wrote the used entries. */
		seen = __atomic_load_n(&vq->split.ring.used->idx,
				       __ATOMIC_ACQUIRE);
		count = seen - vq->last_used;
		/* Backwards reads as a huge count: caught here too. */
		if (VIREO_UNLIKELY(count > vq->in_flight))
			return vireo_vq_break(vq, VIREO_VQ_EBADIDX);
		if (count == 0)
			return 0;
		vq->split.used_idx_seen = seen;
	}
	e = &vq->split.ring.used->ring[vq->last_used & (vq->size - 1)];
	*id = VIREO_READ_ONCE(e->id);
	*len = VIREO_READ_ONCE(e->len);
	*ready = count;
	return 1;
}

static inline void
vireo_vq_publish_split(struct vireo_vq *vq)
{
	/* Release: the descriptors and avail ring entries written by the
	 * adds become visible before the index the device acquires. */
	__atomic_store_n(&vq->split.ring.avail->idx, vq->split.avail_idx,
			 __ATOMIC_RELEASE);
	/* the device's event index counts avail entries */
	vireo_vq_published(vq, vq->staged_bufs);
}

/* Does the device want a kick for the 'added' heads published since the
 * last decision? The caller has fenced. */
static inline int
vireo_vq_kick_wanted_split(const struct vireo_vq *vq, uint16_t added)
{
	const struct vireo_ring_split *r = &vq->split.ring;

	return vireo_ring_split_wants(&r->used->flags,
		vireo_split_avail_event(r, vq->size),
		vq->options & VIREO_VQ_OPT_EVENT_IDX,
		vq->split.avail_idx - vq->staged_bufs, added);
}

static inline bool
vireo_vq_used_pending_split(const struct vireo_vq *vq)
{
	return VIREO_READ_ONCE(vq->split.ring.used->idx) != vq->last_used;
}

#endif /* VIREO_VRING_SPLIT_H */
