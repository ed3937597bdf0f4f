/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The Vireo Authors
 */

/*
 * The data path of the fault backend: rings mapped through the memory
 * table and driven with lib/vring's device role. Tx chains are gathered
 * and checked frame by frame (or looped to Rx); Rx buffers are filled
 * with generated frames, several buffers per frame with mergeable
 * buffers. Every used entry goes through fb_complete(), which is where
 * the data-path faults are written into the ring.
 */

#include <string.h>
#include <unistd.h>

#include "fault_backend.h"
#include "vireo_net.h"

#define FB_MAX_CHAINS	64	/* Rx buffers one frame may take */
#define FB_RX_SEGS	8	/* segments of one Rx buffer */
#define FB_NUM_BUFFERS_OFF	offsetof(struct vireo_net_hdr, num_buffers)

/* xorshift64*: the garbage faults write, reproducible per run. */
static uint64_t
fb_rand(void)
{
	static uint64_t s = 0x9e3779b97f4a7c15ull;

	s ^= s >> 12;
	s ^= s << 25;
	s ^= s >> 27;
	return s * 0x2545f4914f6cdd1dull;
}

void
fb_ring_reset(struct fb_ring *r, unsigned int index)
{
	memset(r, 0, sizeof(*r));
	r->index = index;
	r->tx = index & 1;
	r->kick_fd = -1;
	r->call_fd = -1;
	r->notify_on = true;
}

void
fb_streams_init(struct fb *fb)
{
	unsigned int q;

	for (q = 0; q < FB_MAX_PAIRS; q++) {
		memset(&fb->streams[q], 0, sizeof(fb->streams[q]));
		fb->streams[q].id = fb->stream_base + q;
		fb->streams[q].last_seq = -1;
		fb->streams[q].last_refill = fb_now();
	}
}

/* Ring addresses: the frontend's virtual addresses, through the table. */
static void *
fb_map_uva(struct fb *fb, uint64_t uva, uint64_t len)
{
	unsigned int i;

	for (i = 0; i < fb->nregions; i++) {
		const struct fb_region *r = &fb->regions[i];

		if (uva >= r->uva && uva - r->uva < r->size &&
		    len <= r->size - (uva - r->uva))
			return r->host + (uva - r->uva);
	}
	return NULL;
}

/*
 * Maps the ring's three areas and sets the device role on them; on a
 * ring already running (new memory table, new addresses) only the
 * mappings change, not where the device is in the ring.
 */
int
fb_ring_start(struct fb *fb, struct fb_ring *r)
{
	enum vireo_vq_layout layout = fb->packed ? VIREO_VQ_PACKED :
		VIREO_VQ_SPLIT;
	uint64_t dlen = 16ull * r->num, drvlen, devlen;
	uint32_t options = 0;
	void *desc, *drv, *dev;
	uint16_t b;

	if (fb->packed) {
		drvlen = sizeof(struct vireo_packed_event);
		devlen = sizeof(struct vireo_packed_event);
	} else {
		/* flags, idx, ring, event index */
		drvlen = 4 + 2ull * r->num + 2;
		devlen = 4 + 8ull * r->num + 2;
	}
	desc = fb_map_uva(fb, r->desc_uva, dlen);
	drv = fb_map_uva(fb, r->driver_uva, drvlen);
	dev = fb_map_uva(fb, r->device_uva, devlen);
	if (desc == NULL || drv == NULL || dev == NULL) {
		fb_log(fb, "ring %u: areas not in the memory table", r->index);
		return -1;
	}
	if (!r->started) {
		if (fb->features & (1ull << VIREO_F_IN_ORDER))
			options |= VIREO_VQ_OPT_IN_ORDER;
		if (fb->features & (1ull << VIREO_F_EVENT_IDX))
			options |= VIREO_VQ_OPT_EVENT_IDX;
		if (fb->features & (1ull << VIREO_F_INDIRECT_DESC))
			options |= VIREO_VQ_OPT_INDIRECT;
		if (vireo_vq_dev_init(&r->dev, layout, r->num, options, desc,
				      fb_map_gpa, fb) != 0) {
			fb_log(fb, "ring %u: size %u not usable", r->index,
			       r->num);
			return -1;
		}
	}
	/* the areas need not be contiguous: take each where it is */
	if (fb->packed) {
		r->dev.packed.desc = desc;
		r->dev.packed.driver_event = drv;
		r->dev.packed.device_event = dev;
	} else {
		r->dev.split.desc = desc;
		r->dev.split.avail = drv;
		r->dev.split.used = dev;
	}
	if (r->started)
		return 0;
	b = r->base & 0xffff;
	/* split: one index for both sides; packed: the frontend sends the
	 * avail side only, an idle ring has the used side there too */
	if (vireo_vq_dev_set_base(&r->dev, fb->packed ?
				  (uint32_t)b << 16 | b : b) != 0) {
		fb_log(fb, "ring %u: base 0x%x out of range", r->index, r->base);
		return -1;
	}
	r->started = true;
	r->broken = false;
	r->frozen = false;
	r->kicked = true;
	r->notify_on = fb->fault.kind != FB_F_NO_KICKS;
	vireo_vq_dev_set_notify(&r->dev, r->notify_on);
	if (fb->verbose)
		fb_log(fb, "ring %u: %s, %u entries, base 0x%x", r->index,
		       fb->packed ? "packed" : "split", r->num, r->base);
	/* what the frontend left where we resume, for the curious */
	if (fb->verbose && fb->packed) {
		uint16_t i, at;

		for (i = 0; i < 24; i++) {
			at = (uint16_t)((b & 0x7fff) + r->num - 8 + i) % r->num;
			fb_log(fb, "  slot %u: id %u len %u flags 0x%04x", at,
			       r->dev.packed.desc[at].id,
			       r->dev.packed.desc[at].len,
			       r->dev.packed.desc[at].flags);
		}
	}
	return 0;
}

void
fb_ring_stop(struct fb *fb, struct fb_ring *r)
{
	(void)fb;
	r->started = false;
	r->batch_count = 0;
}

static bool
fb_ring_ready(const struct fb *fb, const struct fb_ring *r)
{
	/* with PROTOCOL_FEATURES rings start disabled until enabled */
	bool enabled = r->enabled ||
		!(fb->features & (1ull << VIREO_VHOST_USER_F_PROTOCOL_FEATURES));

	return r->started && enabled && !r->broken && !r->frozen &&
		(!fb->kick_only || r->kicked);
}

/* The driver wrote a chain we cannot take: a real device would stop. */
static void
fb_refuse(struct fb *fb, struct fb_ring *r, int rc)
{
	fb->st.dev_errors++;
	r->broken = true;
	fb_log(fb, "ring %u: driver error: %s; ring stopped until reset",
	       r->index, vireo_vq_strerror(rc));
}

static void
fb_mark_seen(struct fb_ring *r, uint16_t id)
{
	if (id < VIREO_VQ_MAX_SIZE)
		r->seen[id / 8] |= 1u << (id % 8);
}

/* Is id available right now but not taken yet? */
static bool
fb_pending(const struct fb_ring *r, uint16_t id)
{
	const struct vireo_vq_dev *d = &r->dev;
	uint16_t pos = d->last_avail, i, flags;
	bool wrap = d->avail_wrap_counter;

	if (d->layout == VIREO_VQ_SPLIT) {
		uint16_t end = VIREO_READ_ONCE(d->split.avail->idx);

		for (; pos != end && (uint16_t)(end - pos) <= d->size; pos++)
			if (VIREO_READ_ONCE(d->split.avail->ring[pos &
						(d->size - 1)]) == id)
				return true;
		return false;
	}
	for (i = 0; i < d->size; i++) {
		flags = VIREO_READ_ONCE(d->packed.desc[pos].flags);
		if ((bool)(flags & VIRTQ_DESC_F_AVAIL) != wrap ||
		    (bool)(flags & VIRTQ_DESC_F_USED) == wrap)
			return false;
		if (VIREO_READ_ONCE(d->packed.desc[pos].id) == id)
			return true;
		vireo_packed_advance(&pos, &wrap, 1, d->size);
	}
	return false;
}

/* An id the driver has never made available (so it is not outstanding). */
static int
fb_unseen_id(const struct fb_ring *r)
{
	uint32_t id;

	for (id = r->num; id-- > 0;)
		if (!(r->seen[id / 8] & (1u << (id % 8))) &&
		    !fb_pending(r, id))
			return (int)id;
	return -1;
}

static bool
fb_ring_fault(struct fb *fb, const struct fb_ring *r, enum fb_fault kind)
{
	return fb->fault.kind == kind && fb->fault.on_tx == r->tx &&
		fb_fault_due(fb, kind, r->completed);
}

static void
fb_flush_batch(struct fb_ring *r)
{
	if (r->batch_count == 0)
		return;
	vireo_vq_dev_push_batch(&r->dev, r->batch_id, 0, r->batch_ndesc,
				r->batch_count);
	r->batch_count = 0;
	r->batch_ndesc = 0;
}

/* Publish what was used and interrupt if the driver wants it. */
static void
fb_publish(struct fb *fb, struct fb_ring *r)
{
	uint64_t one = 1;

	/* a frozen ring holds a lie the next publish would overwrite */
	if (r->frozen)
		return;
	fb_flush_batch(r);
	vireo_vq_dev_publish(&r->dev);
	if (vireo_vq_dev_should_interrupt(&r->dev) && r->call_fd >= 0 &&
	    fb->fault.kind != FB_F_NO_KICKS &&
	    write(r->call_fd, &one, sizeof(one)) == sizeof(one))
		fb->st.calls++;
}

/* Split: a used index that moved by what no device may move it. */
static void
fb_bad_used_idx(struct fb *fb, struct fb_ring *r, bool back)
{
	struct vireo_vq_dev *d = &r->dev;
	/* Beyond a ring either way: whatever the driver consumed already,
	 * the distance it sees is more than it has in flight. */
	uint16_t idx = back ? d->used_idx - r->num - 1 - fb->fault.arg :
		d->used_idx + r->num + 1 + fb->fault.arg;

	fb_publish(fb, r);
	__atomic_store_n(&d->split.used->idx, idx, __ATOMIC_RELEASE);
	r->frozen = true;
	fb_fault_fired(fb, back ? "used index moved backwards" :
		       "used index jumped beyond the ring");
}

/* Packed: a used entry with the used bits of the other phase. */
static void
fb_bad_flags(struct fb *fb, struct fb_ring *r, uint16_t id, uint32_t len,
	     uint16_t ndesc)
{
	struct vireo_vq_dev *d = &r->dev;
	struct vireo_packed_desc *u;
	uint16_t flags;

	fb_publish(fb, r);
	u = &d->packed.desc[d->used_idx];
	VIREO_WRITE_ONCE(u->id, id);
	VIREO_WRITE_ONCE(u->len, len);
	flags = d->used_wrap_counter ? 0 : VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED;
	__atomic_store_n(&u->flags, flags, __ATOMIC_RELEASE);
	vireo_packed_advance(&d->used_idx, &d->used_wrap_counter, ndesc,
			     d->size);
	fb_fault_fired(fb, "used flags out of phase");
}

/* Random words over what the device writes: the used ring (split) or
 * the ids, lengths and flags of descriptors (packed). */
static void
fb_scribble(struct fb *fb, struct fb_ring *r)
{
	struct vireo_vq_dev *d = &r->dev;
	uint64_t x = fb_rand();
	uint16_t at = (uint16_t)(x >> 16) % r->num;

	if (d->layout == VIREO_VQ_SPLIT) {
		VIREO_WRITE_ONCE(d->split.used->ring[at].id, (uint32_t)fb_rand());
		VIREO_WRITE_ONCE(d->split.used->ring[at].len, (uint32_t)fb_rand());
		if ((x & 3) == 0)
			__atomic_store_n(&d->split.used->idx,
					 (uint16_t)(d->used_idx + (x >> 40) % 8),
					 __ATOMIC_RELEASE);
	} else {
		VIREO_WRITE_ONCE(d->packed.desc[at].id, (uint16_t)fb_rand());
		VIREO_WRITE_ONCE(d->packed.desc[at].len, (uint32_t)fb_rand());
		__atomic_store_n(&d->packed.desc[at].flags, (uint16_t)(x >> 48),
				 __ATOMIC_RELEASE);
	}
	fb_fault_fired(fb, "ring memory scribbled");
}

/*
 * Completes one chain: len bytes written into it, writable its room.
 * The faults of the used side happen here.
 */
static void
fb_complete(struct fb *fb, struct fb_ring *r,
	    const struct vireo_vq_dev_chain *c, uint32_t len,
	    uint32_t writable)
{
	struct vireo_vq_dev *d = &r->dev;
	enum fb_fault kind = fb->fault.kind;
	int id;

	if (kind != FB_F_NONE && fb_ring_fault(fb, r, kind)) {
		/* faults are written after what came before, in order */
		fb_flush_batch(r);
		switch (kind) {
		case FB_F_ID_RANGE:
			vireo_vq_dev_push(d, r->num + fb->fault.arg, len,
					  c->ndesc);
			fb_fault_fired(fb, "used id out of range");
			goto done;
		case FB_F_ID_NOT_POSTED:
			id = fb_unseen_id(r);
			if (id < 0)
				break;	/* every id is in use: not now */
			vireo_vq_dev_push(d, id, len, c->ndesc);
			fb_fault_fired(fb, "used id never made available");
			goto done;
		case FB_F_LEN:
			vireo_vq_dev_push(d, c->id, writable + 1 + fb->fault.arg,
					  c->ndesc);
			fb_fault_fired(fb, "written length above the buffer");
			goto done;
		case FB_F_FLAGS:
			if (!fb->packed)
				break;
			fb_bad_flags(fb, r, c->id, len, c->ndesc);
			goto done;
		case FB_F_IDX_BACK:
		case FB_F_IDX_FAR:
			if (fb->packed)
				break;
			vireo_vq_dev_push(d, c->id, len, c->ndesc);
			fb_bad_used_idx(fb, r, kind == FB_F_IDX_BACK);
			goto done;
		case FB_F_SCRIBBLE:
			vireo_vq_dev_push(d, c->id, len, c->ndesc);
			fb_scribble(fb, r);
			goto done;
		default:
			break;
		}
	}
	if (fb->tx_batch && fb->in_order && r->tx) {
		/* in order: one used entry for the burst, the last id */
		r->batch_id = c->id;
		r->batch_ndesc += c->ndesc;
		r->batch_count++;
	} else {
		vireo_vq_dev_push(d, c->id, len, c->ndesc);
		/*
		 * Published on its own, not with the burst: a backend
		 * killed at any instruction then leaves a clean run of used
		 * entries. A packed batch publishes its first slot last, so
		 * a kill in between leaves used slots behind an unused one,
		 * which no new backend can resume from (the driver's resume
		 * point is that unused slot, the slots after it are no
		 * longer available).
		 */
		vireo_vq_dev_publish(d);
	}
done:
	r->completed++;
}

/*
 * Faults that need two buffers taken: a and b, then
 *  - order (split in-order): b completed before a;
 *  - id reused: a completed twice, the second time in b's place (so
 *    the used index stays within what is in flight and the id check is
 *    the one that must catch it).
 * The ring is left frozen with the lie in it. False when there are not
 * two buffers yet (nothing taken).
 */
static bool
fb_two_buffer_fault(struct fb *fb, struct fb_ring *r)
{
	static struct vireo_seg segs[FB_MAX_SEGS];
	struct vireo_vq_dev_chain a, b;
	uint16_t pos = r->dev.last_avail;
	bool wrap = r->dev.avail_wrap_counter;
	bool order = fb_ring_fault(fb, r, FB_F_ORDER) && !fb->packed &&
		fb->in_order;

	if (!order && !fb_ring_fault(fb, r, FB_F_ID_REUSED))
		return false;
	uint32_t len = 0;
	uint8_t *p;

	if (vireo_vq_dev_pop(&r->dev, &a, segs, FB_MAX_SEGS) != 1)
		return false;
	/* Rx: a is completed as a minimal frame, a header saying one
	 * buffer and what the buffer held before (the lie is the id, not
	 * the contents); Tx: nothing written */
	if (!r->tx && a.nsegs > 0 && segs[0].write && segs[0].len >= 64 + 12) {
		p = vireo_vq_dev_map(&r->dev, segs[0].addr, segs[0].len);
		if (p != NULL) {
			uint16_t one = 1;

			memset(p, 0, fb->hdr_size);
			if (fb->hdr_size > FB_NUM_BUFFERS_OFF)
				memcpy(p + FB_NUM_BUFFERS_OFF, &one, sizeof(one));
			len = fb->hdr_size + 64;
		}
	}
	if (vireo_vq_dev_pop(&r->dev, &b, segs, FB_MAX_SEGS) != 1) {
		/* not now: leave a where it was */
		r->dev.last_avail = pos;
		r->dev.avail_wrap_counter = wrap;
		return false;
	}
	fb_publish(fb, r);
	if (order) {
		vireo_vq_dev_push(&r->dev, b.id, 0, b.ndesc);
		fb_fault_fired(fb, "in-order completion out of sequence");
	} else {
		vireo_vq_dev_push(&r->dev, a.id, len, a.ndesc);
		vireo_vq_dev_push(&r->dev, a.id, len, b.ndesc);
		fb_fault_fired(fb, "used id reused");
	}
	vireo_vq_dev_publish(&r->dev);
	r->frozen = true;
	return true;
}

/* Copies what the driver sent (its readable segments) into fb->frame. */
static int
fb_gather(struct fb *fb, struct fb_ring *r, const struct vireo_seg *segs,
	  uint16_t n, uint32_t *len)
{
	uint32_t off = 0;
	const void *p;
	uint16_t i;

	for (i = 0; i < n; i++) {
		if (segs[i].write)
			continue;
		if (segs[i].len > sizeof(fb->frame) - off)
			return -1;	/* more than any frame: not ours */
		p = vireo_vq_dev_map(&r->dev, segs[i].addr, segs[i].len);
		if (p == NULL)
			return VIREO_VQ_EBADADDR;
		memcpy(fb->frame + off, p, segs[i].len);
		off += segs[i].len;
	}
	*len = off;
	return 0;
}

/*
 * Header and frame (total bytes at buf) into the Rx buffers of pair q:
 * 1 when delivered, 0 when there is no room now (nothing consumed),
 * -1 when it cannot be (ring refused, frame too big for one buffer).
 */
static int
fb_rx_deliver(struct fb *fb, unsigned int q, uint8_t *buf, uint32_t total)
{
	static struct vireo_vq_dev_chain chains[FB_MAX_CHAINS];
	static uint32_t written[FB_MAX_CHAINS], room[FB_MAX_CHAINS];
	struct fb_ring *r = &fb->rings[2 * q];
	struct vireo_seg segs[FB_RX_SEGS];
	uint16_t save_pos = r->dev.last_avail, nbufs;
	bool save_wrap = r->dev.avail_wrap_counter;
	uint8_t *hdr_at = NULL;
	uint32_t off = 0, nch = 0, i, n;
	uint8_t *p;
	int rc;

	if (!fb_ring_ready(fb, r))
		return 0;
	if (fb->fault.kind == FB_F_BAD_HDR && fb_ring_fault(fb, r, FB_F_BAD_HDR)) {
		uint64_t x[2] = { fb_rand(), fb_rand() };

		/* offload fields a device may set, set to anything */
		memcpy(buf, x, 10);
		fb_fault_fired(fb, "random virtio-net header");
	}
	while (off < total) {
		if (nch == FB_MAX_CHAINS)
			goto undo;
		rc = vireo_vq_dev_pop(&r->dev, &chains[nch], segs, FB_RX_SEGS);
		if (rc == 0)
			goto undo;
		if (rc < 0) {
			fb_refuse(fb, r, rc);
			return -1;
		}
		fb_mark_seen(r, chains[nch].id);
		written[nch] = 0;
		room[nch] = 0;
		for (i = 0; i < chains[nch].nsegs; i++) {
			if (!segs[i].write)
				continue;
			p = vireo_vq_dev_map(&r->dev, segs[i].addr, segs[i].len);
			if (p == NULL) {
				fb_refuse(fb, r, VIREO_VQ_EBADADDR);
				return -1;
			}
			n = segs[i].len < total - off ? segs[i].len : total - off;
			memcpy(p, buf + off, n);
			/* the header's num_buffers is known only at the end */
			if (nch == 0 && off == 0 && segs[i].len >= fb->hdr_size)
				hdr_at = p;
			room[nch] += segs[i].len;
			written[nch] += n;
			off += n;
		}
		nch++;
		if (!fb->mergeable && off < total) {
			fb->st.too_big++;
			r->dev.last_avail = save_pos;
			r->dev.avail_wrap_counter = save_wrap;
			return -1;
		}
	}
	nbufs = nch;
	if (nch > 1 && fb_ring_fault(fb, r, FB_F_CUT_FRAME)) {
		/* the first buffer of the frame only, then gone: what the
		 * driver holds of it must not be completed by frames that
		 * come after the reconnection */
		if (hdr_at != NULL && fb->hdr_size > FB_NUM_BUFFERS_OFF)
			memcpy(hdr_at + FB_NUM_BUFFERS_OFF, &nbufs, sizeof(nbufs));
		vireo_vq_dev_push(&r->dev, chains[0].id, written[0],
				  chains[0].ndesc);
		fb_publish(fb, r);
		fb->disconnect_now = true;
		fb_fault_fired(fb, "hang-up between the buffers of a frame");
		return 1;
	}
	if (fb_ring_fault(fb, r, FB_F_NUM_BUFFERS)) {
		nbufs = fb->fault.arg_set ? fb->fault.arg : 0xffff;
		fb_fault_fired(fb, "absurd num_buffers");
	}
	if (hdr_at != NULL && fb->hdr_size > FB_NUM_BUFFERS_OFF)
		memcpy(hdr_at + FB_NUM_BUFFERS_OFF, &nbufs, sizeof(nbufs));
	for (i = 0; i < nch; i++)
		fb_complete(fb, r, &chains[i], written[i], room[i]);
	fb->st.rx_bufs += nch;
	return 1;
undo:
	/* the buffers taken stay the driver's offer; take them again later */
	r->dev.last_avail = save_pos;
	r->dev.avail_wrap_counter = save_wrap;
	return 0;
}

/* kick-only: the ring ran dry; wait for a kick unless more came. */
static void
fb_ring_idle(struct fb *fb, struct fb_ring *r)
{
	if (!fb->kick_only)
		return;
	r->notify_on = true;
	if (!vireo_vq_dev_set_notify(&r->dev, true))
		r->kicked = false;
}

/* kick-only: no kicks needed while we are at it. */
static void
fb_ring_busy(struct fb *fb, struct fb_ring *r)
{
	if (!fb->kick_only || !r->notify_on)
		return;
	r->notify_on = false;
	vireo_vq_dev_set_notify(&r->dev, false);
}

/*
 * Dies in the middle of publishing: up to 4 Tx buffers taken, their
 * frames checked (sent, as far as the wire knows) and their used slots
 * written, the first slot's flags still withheld as a batching device
 * withholds them; then the hang-up.  Needs two buffers, else false and
 * the buffer taken is completed as usual.
 */
static bool
fb_die_mid_batch(struct fb *fb, struct fb_ring *r)
{
	static struct vireo_seg segs[FB_MAX_SEGS];
	struct vireo_vq_dev_chain c[4];
	uint32_t len;
	unsigned int n, i;

	if (!fb_ring_fault(fb, r, FB_F_DIE_MID_BATCH))
		return false;
	fb_publish(fb, r);
	for (n = 0; n < 4; n++) {
		if (vireo_vq_dev_pop(&r->dev, &c[n], segs, FB_MAX_SEGS) != 1)
			break;
		fb_mark_seen(r, c[n].id);
		if (fb_gather(fb, r, segs, c[n].nsegs, &len) == 0 &&
		    len >= fb->hdr_size)
			fb_frame_check(fb, fb->frame + fb->hdr_size,
				       len - fb->hdr_size);
	}
	if (n < 2) {
		for (i = 0; i < n; i++)
			vireo_vq_dev_push(&r->dev, c[i].id, 0, c[i].ndesc);
		fb_publish(fb, r);
		return n > 0;
	}
	/* one used slot per buffer (in order too): the first withheld */
	for (i = 0; i < n; i++)
		vireo_vq_dev_push(&r->dev, c[i].id, 0, c[i].ndesc);
	r->frozen = true;
	fb->disconnect_now = true;
	fb_fault_fired(fb, "hang-up in the middle of publishing used buffers");
	return true;
}

static bool
fb_serve_tx(struct fb *fb, unsigned int q)
{
	static struct vireo_seg segs[FB_MAX_SEGS];
	struct fb_ring *r = &fb->rings[2 * q + 1];
	struct fb_stream *s = &fb->streams[q];
	struct vireo_vq_dev_chain c;
	uint32_t len, n;
	int rc;

	fb_ring_busy(fb, r);
	if (fb_two_buffer_fault(fb, r) || fb_die_mid_batch(fb, r))
		return true;
	for (n = 0; n < fb->burst; n++) {
		rc = vireo_vq_dev_pop(&r->dev, &c, segs, FB_MAX_SEGS);
		if (rc == 0) {
			fb_ring_idle(fb, r);
			break;
		}
		if (rc < 0) {
			fb_refuse(fb, r, rc);
			break;
		}
		fb_mark_seen(r, c.id);
		fb->st.tx_chains++;
		if (c.nsegs > fb->st.tx_segs_max)
			fb->st.tx_segs_max = c.nsegs;
		rc = fb_gather(fb, r, segs, c.nsegs, &len);
		if (rc == VIREO_VQ_EBADADDR) {
			fb_refuse(fb, r, rc);
			break;
		}
		if (rc != 0 || len < fb->hdr_size) {
			s->alien++;
		} else if (fb->mode == FB_MODE_LOOP) {
			/* a fresh header: the driver's Tx fields mean nothing
			 * on Rx */
			memset(fb->frame, 0, fb->hdr_size);
			if (fb_rx_deliver(fb, q, fb->frame, len) <= 0)
				s->dropped++;
			else
				s->gen++;
		} else {
			fb_frame_check(fb, fb->frame + fb->hdr_size,
				       len - fb->hdr_size);
		}
		fb_complete(fb, r, &c, 0, 0);
		if (r->frozen)
			break;
	}
	if (n > 0) {
		fb_publish(fb, r);
		if (fb->mode == FB_MODE_LOOP && fb->rings[2 * q].started)
			fb_publish(fb, &fb->rings[2 * q]);
	}
	return n > 0;
}

static bool
fb_serve_rx(struct fb *fb, unsigned int q)
{
	struct fb_stream *s = &fb->streams[q];
	struct fb_ring *r = &fb->rings[2 * q];
	uint32_t size, n, done = 0;
	int rc;

	fb_ring_busy(fb, r);
	if (fb_two_buffer_fault(fb, r))
		return true;
	if (fb->rate) {
		s->tokens += (fb->now - s->last_refill) * (double)fb->rate;
		if (s->tokens > fb->burst)
			s->tokens = fb->burst;
	}
	s->last_refill = fb->now;
	for (n = 0; n < fb->burst; n++) {
		if (fb->count && s->gen >= fb->count)
			break;
		if (fb->rate && s->tokens < 1)
			break;
		size = fb->sizes[s->size_idx % fb->nsizes];
		memset(fb->frame, 0, fb->hdr_size);
		fb_frame_build(fb->frame + fb->hdr_size, size, s->id,
			       s->next_seq);
		rc = fb_rx_deliver(fb, q, fb->frame, fb->hdr_size + size);
		if (rc == 0) {
			fb_ring_idle(fb, r);
			break;
		}
		s->size_idx++;
		if (rc < 0) {
			if (r->broken)
				break;
			continue;	/* that size does not fit: the next */
		}
		s->gen++;
		s->gen_bytes += size;
		s->next_seq++;
		s->tokens -= 1;
		done++;
		if (r->frozen || fb->disconnect_now)
			break;
	}
	if (done > 0)
		fb_publish(fb, r);
	return done > 0;
}

/* One pass over every ring; true when there was something to do. */
bool
fb_serve_rings(struct fb *fb)
{
	const struct fb_ring *target = &fb->rings[fb->fault.on_tx ? 1 : 0];
	bool work = false;
	unsigned int q;

	if (fb_fault_due(fb, FB_F_STALL, target->completed)) {
		fb_fault_fired(fb, "rings stalled");
		if (fb->fault.arg == 0)
			fb->stalled_forever = true;
		fb->stall_until = fb->now + fb->fault.arg;
	}
	if (fb->stalled_forever || fb->now < fb->stall_until)
		return false;
	if (fb_fault_due(fb, FB_F_DISCONNECT, target->completed)) {
		fb_fault_fired(fb, "hang-up in the middle of traffic");
		fb->disconnect_now = true;
		return false;
	}
	/* the driver's Tx buffers held (its mbufs with them): Rx goes on */
	if (fb_fault_due(fb, FB_F_HOLD_TX, fb->rings[1].completed)) {
		fb_fault_fired(fb, "Tx buffers held");
		fb->hold_tx_until = fb->now + fb->fault.arg;
	}
	/* without kicks the rings are looked at now and then only */
	if (fb->fault.kind == FB_F_NO_KICKS) {
		if (fb->now - fb->last_poll_all < 0.02)
			return false;
		fb->last_poll_all = fb->now;
	}
	for (q = 0; q < fb->pairs; q++) {
		if (fb_ring_ready(fb, &fb->rings[2 * q + 1]) &&
		    fb->now >= fb->hold_tx_until)
			work |= fb_serve_tx(fb, q);
		if (fb->mode == FB_MODE_GEN && !fb->paused &&
		    fb_ring_ready(fb, &fb->rings[2 * q]))
			work |= fb_serve_rx(fb, q);
	}
	return work;
}
