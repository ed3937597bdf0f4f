/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The Vireo Authors
 */

/*
 * Driver role, everything that is not per packet: sizes and areas, init,
 * restore, reset, teardown, chained and indirect adds, callbacks.
 */

#include <string.h>

#include "vring.h"

/* ---- sizes and areas ---- */

static size_t
vireo_align_up(size_t v, size_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static bool
vireo_size_ok(enum vireo_vq_layout layout, uint32_t size)
{
	if (size == 0 || size > VIREO_VQ_MAX_SIZE)
		return false;
	/* split indexes the rings modulo size with a mask */
	return layout == VIREO_VQ_PACKED || (size & (size - 1)) == 0;
}

int
vireo_vq_areas_for(enum vireo_vq_layout layout, uint32_t size,
		   uint32_t options, struct vireo_vq_areas *a)
{
	bool legacy = options & VIREO_VQ_OPT_LEGACY_LAYOUT;

	if (a == NULL || (layout != VIREO_VQ_SPLIT && layout != VIREO_VQ_PACKED) ||
	    !vireo_size_ok(layout, size))
		return VIREO_VQ_EINVAL;
	/* legacy devices know only the split ring */
	if (legacy && layout != VIREO_VQ_SPLIT)
		return VIREO_VQ_EINVAL;
	a->desc = 0;
	a->driver = size * sizeof(struct vireo_split_desc);
	a->align = legacy ? VIREO_VQ_LEGACY_ALIGN : 16;
	if (layout == VIREO_VQ_SPLIT) {
		/* flags, idx, ring[size], used_event: always reserved so
		 * the layout does not depend on EVENT_IDX */
		a->device = vireo_align_up(a->driver + 4 + 2 * size + 2,
					   legacy ? VIREO_VQ_LEGACY_ALIGN : 4);
		a->total = a->device + 4 +
			size * sizeof(struct vireo_split_used_elem) + 2;
	} else {
		a->device = a->driver + sizeof(struct vireo_packed_event);
		a->total = a->device + sizeof(struct vireo_packed_event);
	}
	a->total = vireo_align_up(a->total, a->align);
	return 0;
}

int
vireo_vq_areas(enum vireo_vq_layout layout, uint32_t size,
	       struct vireo_vq_areas *a)
{
	return vireo_vq_areas_for(layout, size, 0, a);
}

size_t
vireo_vq_slots_size(uint32_t size)
{
	return (size_t)size * (sizeof(struct vireo_vq_slot) +
			       sizeof(struct vireo_vq_indirect) +
			       sizeof(uint16_t));
}

/* ---- state ---- */

int
vireo_vq_break(struct vireo_vq *vq, int code)
{
	vq->err_count[-code]++;
	if (!vq->broken) {
		vq->broken = true;
		vq->broken_reason = code;
	}
	return code;
}

/* The start state of every field but the caller's registrations. */
static void
vireo_vq_start_state(struct vireo_vq *vq)
{
	struct vireo_vq_areas a = { 0 };
	uint16_t i;

	vireo_vq_areas_for(vq->layout, vq->size, vq->options, &a);
	memset(vq->ring_mem, 0, a.total);
	for (i = 0; i < vq->size; i++) {
		vq->slot[i].cookie = NULL;
		vq->slot[i].buflen = 0;
		vq->slot[i].ndesc = 0;
		vq->slot[i].next = 0;
		/* popped from the top: ids 0, 1, 2, .. come out first */
		vq->free_ids[i] = vq->size - 1 - i;
	}
	vq->broken = false;
	vq->broken_reason = 0;
	vq->break_told = false;
	vq->used_wrap_counter = true;
	vq->batch_pending = false;
	vq->nfree = vq->size;
	vq->free_cursor = vq->options & VIREO_VQ_OPT_IN_ORDER ? 0 : vq->size;
	vq->last_used = 0;
	vq->in_flight = 0;
	vq->staged_bufs = 0;
	vq->staged_descs = 0;
	vq->added_since_kick = 0;
	vq->inorder_next = 0;
	vq->detach_cursor = 0;
	if (vq->layout == VIREO_VQ_SPLIT) {
		vq->split.avail_idx = 0;
		vq->split.used_idx_seen = 0;
	} else {
		vq->packed.next_avail = 0;
		vq->packed.avail_wrap_counter = true;
		vq->packed.avail_used_flags = vireo_packed_avail_bits(true);
		vq->packed.stage.pending = false;
	}
}

int
vireo_vq_init(struct vireo_vq *vq, const struct vireo_vq_config *cfg)
{
	struct vireo_vq_areas a = { 0 };
	uint8_t *mem;

	if (vq == NULL || cfg == NULL || cfg->ring == NULL ||
	    cfg->slots == NULL ||
	    (cfg->options & ~(VIREO_VQ_OPT_INDIRECT | VIREO_VQ_OPT_EVENT_IDX |
			      VIREO_VQ_OPT_IN_ORDER |
			      VIREO_VQ_OPT_LEGACY_LAYOUT)) ||
	    vireo_vq_areas_for(cfg->layout, cfg->size, cfg->options, &a) != 0 ||
	    ((uintptr_t)cfg->ring & (a.align - 1)))
		return VIREO_VQ_EINVAL;
	memset(vq, 0, sizeof(*vq));
	memset(cfg->slots, 0, vireo_vq_slots_size(cfg->size));
	vq->size = cfg->size;
	vq->layout = cfg->layout;
	vq->options = cfg->options;
	vq->slot = cfg->slots;
	vq->indirect = (struct vireo_vq_indirect *)(vq->slot + vq->size);
	vq->free_ids = (uint16_t *)(vq->indirect + vq->size);
	vq->ring_mem = cfg->ring;
	vq->ring_iova = cfg->ring_iova;
	mem = cfg->ring;
	if (vq->layout == VIREO_VQ_SPLIT) {
		vq->split.ring.desc = (void *)(mem + a.desc);
		vq->split.ring.avail = (void *)(mem + a.driver);
		vq->split.ring.used = (void *)(mem + a.device);
	} else {
		vq->packed.ring.desc = (void *)(mem + a.desc);
		vq->packed.ring.driver_event = (void *)(mem + a.driver);
		vq->packed.ring.device_event = (void *)(mem + a.device);
	}
	vireo_vq_start_state(vq);
	return 0;
}

void
vireo_vq_addresses(const struct vireo_vq *vq, uint64_t *desc,
		   uint64_t *driver, uint64_t *device)
{
	struct vireo_vq_areas a = { 0 };

	vireo_vq_areas_for(vq->layout, vq->size, vq->options, &a);
	*desc = vq->ring_iova + a.desc;
	*driver = vq->ring_iova + a.driver;
	*device = vq->ring_iova + a.device;
}

int
vireo_vq_set_indirect(struct vireo_vq *vq, uint16_t slot, void *table,
		      uint64_t iova, uint16_t entries)
{
	if (slot >= vq->size || (table == NULL && entries != 0) ||
	    ((uintptr_t)table & 15))
		return VIREO_VQ_EINVAL;
	vq->indirect[slot].table = table;
	vq->indirect[slot].iova = iova;
	vq->indirect[slot].max = entries;
	return 0;
}

void
vireo_vq_reset(struct vireo_vq *vq)
{
	vireo_vq_start_state(vq);
}

/*
 * Restore at a saved base, on an idle ring. Layout of 'base' as in
 * vhost-user GET/SET_VRING_BASE: low 16 bits the avail side, high 16
 * bits the used side; packed: bits 0-14 ring slot, bit 15 wrap counter.
 * Split keeps one free-running index for both sides.
 */
int
vireo_vq_set_base(struct vireo_vq *vq, uint32_t base)
{
	uint16_t avail = base & 0xffff, used = base >> 16;

	if (vq->nfree != vq->size || vq->staged_bufs != 0)
		return VIREO_VQ_EINVAL;
	if (vq->layout == VIREO_VQ_SPLIT) {
		vq->split.avail_idx = avail;
		vq->split.used_idx_seen = avail;
		vq->last_used = avail;
		__atomic_store_n(&vq->split.ring.avail->idx, avail,
				 __ATOMIC_RELEASE);
		return 0;
	}
	/* an idle packed ring has both sides at the same slot and phase */
	if (avail != used || (avail & VIRTQ_EVENT_OFF_MASK) >= vq->size)
		return VIREO_VQ_EINVAL;
	vq->packed.next_avail = avail & VIRTQ_EVENT_OFF_MASK;
	vq->packed.avail_wrap_counter = avail >> VIRTQ_EVENT_WRAP_SHIFT;
	vq->packed.avail_used_flags =
		vireo_packed_avail_bits(vq->packed.avail_wrap_counter);
	vq->last_used = vq->packed.next_avail;
	vq->used_wrap_counter = vq->packed.avail_wrap_counter;
	if (vq->options & VIREO_VQ_OPT_IN_ORDER) {
		/* in order ids are ring slots: the next one is here */
		vq->free_cursor = vq->packed.next_avail;
		vq->inorder_next = vq->packed.next_avail;
	}
	return 0;
}

uint32_t
vireo_vq_get_base(const struct vireo_vq *vq)
{
	uint16_t avail, used;

	if (vq->layout == VIREO_VQ_SPLIT) {
		avail = vq->split.avail_idx - vq->staged_bufs;
		used = vq->last_used;
	} else {
		avail = vq->packed.next_avail |
			vq->packed.avail_wrap_counter << VIRTQ_EVENT_WRAP_SHIFT;
		used = vq->last_used |
			vq->used_wrap_counter << VIRTQ_EVENT_WRAP_SHIFT;
	}
	return (uint32_t)used << 16 | avail;
}

/*
 * A device that publishes used slots in batches (the first slot's flags
 * stored last, 2.8.21 "batching") and dies mid-publish leaves the later
 * slots used and the first one not.  The reclaim stops at that first
 * slot, and so would a device resuming there (the next slot looks
 * used, not available, to it): the ring stalls.  Such a device wrote id
 * and len of every slot of the batch before any flag, so the batch is
 * complete but for one word: store it on the device's behalf.  The id
 * and len are checked by the reclaim, as any used slot's.
 *
 * Looks from 'pos' (phase 'wrap', not used) across the slots we
 * published; returns true if a used slot follows and 'pos' was
 * completed.
 */
static bool
vireo_packed_finish_batch(struct vireo_vq *vq, uint16_t pos, bool wrap)
{
	struct vireo_packed_desc *ring = vq->packed.ring.desc;
	uint16_t end = vq->packed.next_avail, scan = pos, published;
	bool scan_wrap = wrap;
	uint16_t used_bits = wrap ? VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED : 0;

	/* Slots from pos to what we published (staged ones are after). */
	published = wrap == vq->packed.avail_wrap_counter ?
		(uint16_t)(end - pos) : (uint16_t)(vq->size - pos + end);
	if (published <= vq->staged_descs)
		return false;
	published -= vq->staged_descs;
	while (published-- > 1) {
		uint16_t flags;

		vireo_packed_advance(&scan, &scan_wrap, 1, vq->size);
		/* Acquire: pairs with the device's release before its
		 * later flags; its writes of id and len at 'pos' came
		 * before that release. */
		flags = __atomic_load_n(&ring[scan].flags, __ATOMIC_ACQUIRE);
		if (!!(flags & VIRTQ_DESC_F_AVAIL) == scan_wrap &&
		    !!(flags & VIRTQ_DESC_F_USED) == scan_wrap) {
			flags = ring[pos].flags &
				~(VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED);
			/* Release: whoever acquires this word (our reclaim,
			 * a next device) sees what the dead device wrote,
			 * which we acquired above. */
			__atomic_store_n(&ring[pos].flags, flags | used_bits,
					 __ATOMIC_RELEASE);
			return true;
		}
	}
	return false;
}

/*
 * Where a new device should resume the ring after the old one went
 * away (vhost-user SET_VRING_BASE encoding, avail side: split the free
 * running index, packed the slot with the wrap counter in bit 15): the
 * first buffer it did not complete.  What it completed, in ring memory
 * and maybe not reclaimed yet, is skipped; what it took and never
 * completed is offered again.
 *
 * Split: used->idx counts every completed buffer.  Packed: walk the
 * used slots from our reclaim position.  With IN_ORDER a device writes
 * one used slot per batch, at the batch's first slot, naming its last
 * buffer: every buffer from the next expected id to that one is done,
 * and the slots between carry no used flags.  The rest of a batch we
 * are still handing out is done too.
 *
 * The data path may still be polling the ring; with no device nothing
 * changes it but our own reclaim, which only moves towards the point
 * computed here.
 */
uint32_t
vireo_vq_resume_base(struct vireo_vq *vq)
{
	bool in_order = vq->options & VIREO_VQ_OPT_IN_ORDER;
	bool finished = false, wrap;
	uint16_t pos, id, done, next_id, left;

	if (vq->layout == VIREO_VQ_SPLIT) {
		uint16_t used = __atomic_load_n(&vq->split.ring.used->idx,
						__ATOMIC_ACQUIRE);

		/* More than a ring ahead of what we consumed is a lie (the
		 * new device would take avail entries that are not there):
		 * our own count says where the ring is.  Checked against
		 * the size, not in_flight: the reclaim may run meanwhile,
		 * never past used->idx. */
		if ((uint16_t)(used - vq->last_used) > vq->size)
			return vq->last_used;
		return used;
	}
	pos = vq->last_used;
	wrap = vq->used_wrap_counter;
	next_id = vq->inorder_next;
	/* Outstanding buffers bound the walk, whatever the ring says. */
	left = vq->in_flight;
	if (in_order && vq->batch_pending) {
		do {
			done = next_id;
			vireo_packed_advance(&pos, &wrap, vq->slot[done].ndesc,
					     vq->size);
			left--;
			next_id = vireo_vq_inorder_successor(vq, done,
							     VIREO_VQ_PACKED);
		} while (done != vq->batch_end && left > 0);
	}
	while (left > 0) {
		const struct vireo_packed_desc *d = &vq->packed.ring.desc[pos];
		uint16_t flags = __atomic_load_n(&d->flags, __ATOMIC_ACQUIRE);
		bool avail = flags & VIRTQ_DESC_F_AVAIL;
		bool used = flags & VIRTQ_DESC_F_USED;

		if (avail != used || used != wrap) {
			/* One device dies in one batch: finish it once. */
			if (finished || !vireo_packed_finish_batch(vq, pos, wrap))
				break;
			finished = true;
			continue;
		}
		id = VIREO_READ_ONCE(d->id);
		/* A slot naming no outstanding buffer: resume there. */
		if (id >= vq->size || vq->slot[id].cookie == NULL)
			break;
		do {
			done = in_order ? next_id : id;
			vireo_packed_advance(&pos, &wrap, vq->slot[done].ndesc,
					     vq->size);
			left--;
			next_id = vireo_vq_inorder_successor(vq, done,
							     VIREO_VQ_PACKED);
		} while (done != id && left > 0);
	}
	return pos | (uint32_t)wrap << VIRTQ_EVENT_WRAP_SHIFT;
}

/*
 * Teardown, once the device is stopped: hands back the cookies still
 * outstanding, one per call, then NULL after resetting the rings.
 */
void *
vireo_vq_detach_unused(struct vireo_vq *vq)
{
	void *cookie;

	while (vq->detach_cursor < vq->size) {
		cookie = vq->slot[vq->detach_cursor].cookie;
		vq->slot[vq->detach_cursor++].cookie = NULL;
		if (cookie != NULL)
			return cookie;
	}
	vireo_vq_start_state(vq);
	return NULL;
}

const char *
vireo_vq_strerror(int code)
{
	switch (code) {
	case VIREO_VQ_OK: return "success";
	case VIREO_VQ_EINVAL: return "invalid argument";
	case VIREO_VQ_EFULL: return "not enough free descriptors";
	case VIREO_VQ_EBROKEN: return "queue is broken";
	case VIREO_VQ_ENOINDIRECT: return "indirect table not available";
	case VIREO_VQ_EBADID: return "device used an id out of range";
	case VIREO_VQ_ENOTPOSTED: return "device used an id not outstanding";
	case VIREO_VQ_EBADLEN: return "device wrote beyond the posted length";
	case VIREO_VQ_EBADFLAGS: return "device used flags out of phase";
	case VIREO_VQ_EBADIDX: return "device used index moved back or too far";
	case VIREO_VQ_EORDER: return "device broke in-order completion";
	case VIREO_VQ_EBADCHAIN: return "driver chain loops or is malformed";
	case VIREO_VQ_ESEGS: return "chain has more segments than room";
	case VIREO_VQ_EBADADDR: return "buffer address cannot be mapped";
	case VIREO_VQ_EBADAVAIL: return "driver avail index or head out of range";
	default: return "unknown error";
	}
}

/* ---- chained and indirect adds ---- */

/* Descriptor flags of element i of a chain of n, nr readable first. */
static uint16_t
vireo_chain_flags(uint16_t i, uint16_t nr, uint16_t n)
{
	return (i >= nr ? VIRTQ_DESC_F_WRITE : 0) |
		(i + 1 < n ? VIRTQ_DESC_F_NEXT : 0);
}

/* Sum of writable lengths, or -1 if it does not fit 32 bits. */
static int64_t
vireo_writable_len(const struct vireo_buf *bufs, uint16_t nr, uint16_t n)
{
	uint64_t sum = 0;
	uint16_t i;

	for (i = nr; i < n; i++)
		sum += bufs[i].len;
	return sum > UINT32_MAX ? -1 : (int64_t)sum;
}

static void
vireo_vq_add_chain_split(struct vireo_vq *vq, const struct vireo_buf *bufs,
			 uint16_t nr, uint16_t n, uint32_t buflen, void *cookie)
{
	uint16_t head = vireo_split_take_free(vq), idx = head, next, i;
	struct vireo_split_desc *d;

	for (i = 0; i < n; i++) {
		d = &vq->split.ring.desc[idx];
		d->addr = bufs[i].addr;
		d->len = bufs[i].len;
		d->flags = vireo_chain_flags(i, nr, n);
		/* the last one's link: ignored by the device without
		 * F_NEXT, and never followed by us */
		next = i + 1 < n ? vireo_split_take_free(vq) : 0;
		d->next = next;
		vq->slot[idx].next = next;	/* our copy, for the reclaim */
		idx = next;
	}
	vireo_vq_slot_fill(vq, head, cookie, buflen, n);
	vireo_split_offer(vq, head);
}

static void
vireo_vq_add_chain_packed(struct vireo_vq *vq, const struct vireo_buf *bufs,
			  uint16_t nr, uint16_t n, uint32_t buflen, void *cookie)
{
	uint16_t id = vireo_packed_take_id(vq, n), i;
	struct vireo_packed_desc *d;

	for (i = 0; i < n; i++) {
		d = &vq->packed.ring.desc[vq->packed.next_avail];
		d->addr = bufs[i].addr;
		d->len = bufs[i].len;
		d->id = id;	/* the device reads it from the last one */
		vireo_packed_put_flags(vq, vq->packed.next_avail,
				       vireo_chain_flags(i, nr, n), i == 0);
	}
	vireo_vq_slot_fill(vq, id, cookie, buflen, n);
}

int
vireo_vq_add(struct vireo_vq *vq, const struct vireo_buf *bufs,
	     uint16_t n_readable, uint16_t n_writable, void *cookie)
{
	uint32_t n = (uint32_t)n_readable + n_writable;
	int64_t buflen;
	int rc;

	if (n > vq->size)
		return VIREO_VQ_EINVAL;
	rc = vireo_vq_add_check(vq, n, cookie);
	if (rc != 0)
		return rc;
	buflen = vireo_writable_len(bufs, n_readable, n);
	if (buflen < 0)
		return VIREO_VQ_EINVAL;
	if (vq->layout == VIREO_VQ_SPLIT)
		vireo_vq_add_chain_split(vq, bufs, n_readable, n, buflen, cookie);
	else
		vireo_vq_add_chain_packed(vq, bufs, n_readable, n, buflen, cookie);
	return 0;
}

/*
 * One ring descriptor pointing at the table registered for the slot the
 * add will take (split: the head descriptor; packed: the buffer id; in
 * both vireo_vq_next_id). Split tables chain with F_NEXT; packed tables
 * are read in sequence and carry only F_WRITE (spec 2.8.19).
 */
int
vireo_vq_add_indirect(struct vireo_vq *vq, const struct vireo_buf *bufs,
		      uint16_t n_readable, uint16_t n_writable, void *cookie)
{
	uint32_t n = (uint32_t)n_readable + n_writable;
	const struct vireo_vq_indirect *s;
	uint16_t i, flags;
	int64_t buflen;
	int rc = vireo_vq_add_check(vq, 1, cookie);

	if (rc != 0)
		return rc;
	s = &vq->indirect[vireo_vq_next_id(vq)];
	if (!(vq->options & VIREO_VQ_OPT_INDIRECT) || s->table == NULL ||
	    n > s->max)
		return VIREO_VQ_ENOINDIRECT;
	buflen = vireo_writable_len(bufs, n_readable, n);
	if (n == 0 || buflen < 0)
		return VIREO_VQ_EINVAL;
	for (i = 0; i < n; i++) {
		flags = vireo_chain_flags(i, n_readable, n);
		if (vq->layout == VIREO_VQ_SPLIT) {
			struct vireo_split_desc *t = s->table;

			t[i] = (struct vireo_split_desc){ bufs[i].addr,
				bufs[i].len, flags, i + 1 };
		} else {
			struct vireo_packed_desc *t = s->table;

			t[i] = (struct vireo_packed_desc){ bufs[i].addr,
				bufs[i].len, 0, flags & VIRTQ_DESC_F_WRITE };
		}
	}
	return vq->layout == VIREO_VQ_SPLIT ?
		vireo_vq_add1_split(vq, s->iova,
			n * sizeof(struct vireo_split_desc),
			VIRTQ_DESC_F_INDIRECT, buflen, cookie) :
		vireo_vq_add1_packed(vq, s->iova,
			n * sizeof(struct vireo_packed_desc),
			VIRTQ_DESC_F_INDIRECT, buflen, cookie);
}

/* ---- used buffer callbacks ---- */

static void
vireo_vq_set_cb(struct vireo_vq *vq, bool enable)
{
	bool event_idx = vq->options & VIREO_VQ_OPT_EVENT_IDX;

	if (vq->layout == VIREO_VQ_SPLIT)
		vireo_ring_split_suppress(&vq->split.ring.avail->flags,
			vireo_split_used_event(&vq->split.ring, vq->size),
			event_idx, vq->last_used, enable);
	else
		vireo_ring_packed_suppress(vq->packed.ring.driver_event,
			event_idx, vq->last_used, vq->used_wrap_counter, enable);
}

int
vireo_vq_disable_cb(struct vireo_vq *vq)
{
	if (vq->broken)
		return VIREO_VQ_EBROKEN;
	vireo_vq_set_cb(vq, false);
	return 0;
}

/* Returns 1 if used buffers are already waiting: poll them, since the
 * device may have completed them before it saw the request. */
int
vireo_vq_enable_cb(struct vireo_vq *vq)
{
	if (vq->broken)
		return VIREO_VQ_EBROKEN;
	vireo_vq_set_cb(vq, true);
	/* Full fence: our event request against our load of the used
	 * side. Pairs with the device's store of used then load of the
	 * request when it decides whether to interrupt. */
	vireo_full_fence();
	return vq->batch_pending || vireo_vq_used_pending(vq);
}
