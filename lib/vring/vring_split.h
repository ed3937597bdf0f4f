/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The Vireo Authors
 */

/*
 * Split layout, driver role: hot inline bodies. Included by vring.h only.
 *
 * Buffer ids are head descriptor indices. Free descriptors form a list
 * through vireo_vq_slot.next (ours, so the device cannot corrupt it).
 * With IN_ORDER the list is never relinked: it stays the ring order
 * 0,1,..,size-1,0,.. and chains take consecutive descriptors, which is
 * what lets the device complete a batch with one used entry.
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
	head = vq->free_head;
	vq->free_head = vq->slot[head].next;
	d = &vq->split.ring.desc[head];
	d->addr = addr;
	d->len = len;
	d->flags = flags;
	vireo_vq_slot_fill(vq, head, cookie, buflen, 1);
	vireo_split_offer(vq, head);
	return 0;
}

/* Gives the chain at 'head' back to the free list. */
static inline void
vireo_vq_free_split(struct vireo_vq *vq, uint16_t head)
{
	uint16_t ndesc = vq->slot[head].ndesc;
	uint16_t tail = head;
	uint16_t i;

	vq->nfree += ndesc;
	vq->last_used++;
	if (vq->options & VIREO_VQ_OPT_IN_ORDER)
		return;		/* list stays in ring order, see top */
	for (i = 1; i < ndesc; i++)
		tail = vq->slot[tail].next;
	vq->slot[tail].next = vq->free_head;
	vq->free_head = head;
}

/* Burst of one-descriptor buffers; see vireo_vq_add1_burst_packed. */
static inline uint16_t
vireo_vq_add1_burst_split(struct vireo_vq *vq, const struct vireo_buf *bufs,
			  void *const *cookies, uint16_t n, uint16_t flags)
{
	struct vireo_split_desc *table = vq->split.ring.desc;
	uint16_t *avail_ring = vq->split.ring.avail->ring;
	struct vireo_vq_slot *slot = vq->slot;
	uint16_t avail_idx = vq->split.avail_idx, free_head = vq->free_head;
	uint16_t mask = vq->size - 1;
	bool in_order = vq->options & VIREO_VQ_OPT_IN_ORDER;
	uint16_t i, head;

	n = n < vq->nfree ? n : vq->nfree;
	for (i = 0; i < n; i++) {
		struct vireo_split_desc *d;

		/* A NULL cookie would post a buffer that looks free (lost
		 * for good); the single add refuses it, here we stop. */
		if (VIREO_UNLIKELY(cookies[i] == NULL))
			break;
		head = free_head;
		/* In order the list is the ring order: no load to chase. */
		free_head = in_order ? (head + 1) & mask : slot[head].next;
		d = &table[head];
		d->addr = bufs[i].addr;
		d->len = bufs[i].len;
		d->flags = flags;
		slot[head].cookie = cookies[i];
		slot[head].buflen = flags & VIRTQ_DESC_F_WRITE ? bufs[i].len : 0;
		slot[head].ndesc = 1;
		avail_ring[avail_idx++ & mask] = head;
	}
	vq->split.avail_idx = avail_idx;
	vireo_vq_added1(vq, i, free_head);
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
	uint16_t last = vq->last_used, mask = vq->size - 1;
	uint16_t done = 0;

	*err = 0;
	while (done < n) {
		const struct vireo_split_used_elem *e = &used_ring[last & mask];
		uint32_t id = VIREO_READ_ONCE(e->id);
		uint32_t len = VIREO_READ_ONCE(e->len);
		struct vireo_vq_slot *s;

		if (VIREO_UNLIKELY(id >= vq->size)) {
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
		vq->last_used = last;
		vireo_vq_free_split(vq, (uint16_t)id);	/* last_used++ */
		last++;
		done++;
	}
	vq->in_flight -= done;
	return done;
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
	uint16_t last = vq->last_used, mask = vq->size - 1;
	uint16_t next = vq->inorder_next, done = 0, freed = 0, taken = 0;
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
	while (done < n) {
		const struct vireo_split_used_elem *e = &used_ring[last & mask];
		struct vireo_vq_slot *s;

		if (VIREO_READ_ONCE(e->id) != next)
			break;
		s = &slot[next];
		if (!vireo_vq_inorder_hand_out(s, VIREO_READ_ONCE(e->len),
					       &cookies[done], &lens[done]))
			break;
		taken = next;
		freed += s->ndesc;
		next = (next + s->ndesc) & mask;
		last++;
		done++;
	}
	if (done == 0)
		return 0;
	vq->last_used = last;
	vireo_vq_inorder_singles_done(vq, next, taken, lens[done - 1], freed,
				      done);
	return done;
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
