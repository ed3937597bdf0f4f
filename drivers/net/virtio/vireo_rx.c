/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The Vireo Authors
 */

/*
 * Receive: one body per Rx buffer mode, specialised by the ring layout
 * (a constant argument), over the ring core's driver role.  Buffers are
 * whole mbufs posted as one writable descriptor each, the virtio-net
 * header at the end of the headroom so the frame lands where mbuf data
 * starts.
 *
 * The vector units (vireo_rxtx_vec_*.c) compile this file again with
 * VIREO_VEC_NAME set: the same bodies over the ring core's vector batch
 * primitives and a four-mbuf init, entry points named for the
 * instruction set (see vireo_rxtx.h).
 */

#include <string.h>

#include <rte_common.h>
#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include "vireo_log.h"
#include "vireo_rxtx.h"

/*
 * Refills up to @want free descriptors from the pool, in bulk, and
 * publishes them at once.  Returns how many were posted.
 */
static __rte_always_inline uint16_t
vireo_rx_refill(struct vireo_rxq *rxq, uint16_t want,
		const enum vireo_vq_layout layout, const bool in_order)
{
	struct rte_mbuf *fresh[VIREO_RX_BURST_MAX];
	/* The header goes at the end of the headroom, the frame where
	 * mbuf data normally starts. */
	const uint16_t lead = RTE_PKTMBUF_HEADROOM - rxq->hdr_size;
	/* Read once (ring and slot stores might alias rxq for the
	 * compiler). */
	const uint16_t addr_offset = rxq->addr_offset;
	const uint32_t buf_offset = rxq->buf_offset;
	const uint32_t buf_len = rxq->buf_len;
	struct rte_mempool *mp = rxq->mp;
	uint16_t posted = 0, chunk, i;
	struct vireo_vq_run run;

	while (want > 0) {
		chunk = vireo_vq_run_begin(&rxq->q.vq, &run,
			RTE_MIN(want, (uint16_t)VIREO_RX_BURST_MAX), layout);
		if (chunk == 0)
			break;
		/* Raw from the pool: a free mbuf has refcnt 1, one segment
		 * and no next; the rest is set when it comes back full. */
		if (unlikely(rte_mempool_get_bulk(mp, (void **)fresh,
						  chunk) != 0)) {
			rxq->stats.nombuf += chunk;
			break;
		}
		/* The first add apart: only it may be the head withheld.
		 * Vector units add four at a time where they can (0 in the
		 * scalar unit). */
		i = vireo_dp_refill4(&run, fresh, chunk, buf_offset,
				     addr_offset, lead, buf_len, layout,
				     in_order);
		if (i == 0) {
			vireo_vq_run_add(&run, vireo_rx_buf_dev_addr(fresh[0],
					 buf_offset, addr_offset) + lead, buf_len,
					 VIRTQ_DESC_F_WRITE, buf_len, fresh[0],
					 layout, in_order, true);
			i = 1;
		}
		for (; i < chunk; i++)
			vireo_vq_run_add(&run, vireo_rx_buf_dev_addr(fresh[i],
					 buf_offset, addr_offset) + lead, buf_len,
					 VIRTQ_DESC_F_WRITE, buf_len, fresh[i],
					 layout, in_order, false);
		vireo_vq_run_end(&rxq->q.vq, &run, layout, in_order);
		posted += chunk;
		want -= chunk;
	}
	if (posted > 0)
		vireo_queue_flush(&rxq->q, &rxq->stats, layout);
	return posted;
}

#ifndef VIREO_VEC_NAME
int
vireo_rxq_fill(struct vireo_rxq *rxq)
{
	uint16_t free_slots = vireo_vq_nfree(&rxq->q.vq);
	struct rte_mbuf model;

	/* What every received mbuf starts with, written as one word. */
	memset(&model, 0, sizeof(model));
	model.data_off = RTE_PKTMBUF_HEADROOM;
	rte_mbuf_refcnt_set(&model, 1);
	model.nb_segs = 1;
	model.port = rxq->port_id;
	memcpy(&rxq->mbuf_rearm, &model.data_off, sizeof(rxq->mbuf_rearm));

	if (vireo_rx_refill(rxq, free_slots, rxq->q.vq.layout,
			    rxq->q.vq.options & VIREO_VQ_OPT_IN_ORDER) == 0 &&
	    free_slots > 0) {
		VIREO_LOG(rx, ERR, "port %u Rx queue %u: no mbufs to fill the ring",
			  rxq->port_id, rxq->queue_id);
		return -ENOMEM;
	}
	return 0;
}
#endif

/* Takes up to @n used buffers; 0 when none or the ring broke (the
 * ring core marked it: count it and say why once per break, whether
 * this burst met the bad entry first or after good ones). */
static __rte_always_inline uint16_t
vireo_rx_take(struct vireo_rxq *rxq, struct rte_mbuf **bufs, uint32_t *lens,
	      uint16_t n, const enum vireo_vq_layout layout,
	      const bool in_order)
{
	int rc = vireo_dp_get_used_burst(&rxq->q.vq, (void **)bufs, lens, n,
					 layout, in_order);

	if (unlikely(rxq->q.vq.broken)) {
		int why = vireo_vq_break_news(&rxq->q.vq);

		if (why != 0) {
			rxq->stats.errors++;
			vireo_queue_broken(&rxq->q, why);
		}
	}
	return rc > 0 ? rc : 0;
}

/* Counts what a burst delivered and refills once enough is free. */
static __rte_always_inline void
vireo_rx_done(struct vireo_rxq *rxq, uint16_t packets, uint64_t bytes,
	      const enum vireo_vq_layout layout, const bool in_order)
{
	uint16_t free_slots = vireo_vq_nfree(&rxq->q.vq);

	rxq->stats.packets += packets;
	rxq->stats.bytes += bytes;
	if (free_slots >= VIREO_RX_REFILL_BATCH)
		vireo_rx_refill(rxq, free_slots, layout, in_order);
}

/*
 * Fills the mbuf fields of the first buffer of a frame of @len bytes.
 * The mbuf came from the pool (we posted it), so next is NULL already.
 * Four 8-byte stores: the rearm word (data_off, refcnt, nb_segs, port)
 * and ol_flags 0; packet_type 0 and pkt_len; data_len, with vlan_tci
 * and the low half of the hash 0 (no flag says they hold anything).
 */
static __rte_always_inline void
vireo_rx_init_mbuf(struct vireo_rxq *rxq, struct rte_mbuf *m, uint32_t len)
{
	const uint64_t rearm = rxq->mbuf_rearm, zero = 0;
	const uint64_t lens_lo = (uint64_t)len << 32, lens_hi = len;

	RTE_BUILD_BUG_ON(offsetof(struct rte_mbuf, ol_flags) !=
			 offsetof(struct rte_mbuf, rearm_data) + 8 ||
			 offsetof(struct rte_mbuf, packet_type) !=
			 offsetof(struct rte_mbuf, rearm_data) + 16 ||
			 offsetof(struct rte_mbuf, pkt_len) !=
			 offsetof(struct rte_mbuf, rearm_data) + 20 ||
			 offsetof(struct rte_mbuf, data_len) !=
			 offsetof(struct rte_mbuf, rearm_data) + 24 ||
			 offsetof(struct rte_mbuf, vlan_tci) !=
			 offsetof(struct rte_mbuf, rearm_data) + 26);
	memcpy(&m->rearm_data, &rearm, 8);
	memcpy(&m->ol_flags, &zero, 8);
	memcpy(&m->packet_type, &lens_lo, 8);
	memcpy(&m->data_len, &lens_hi, 8);
}

/* The header of a posted buffer, at the end of its headroom. */
static __rte_always_inline const struct vireo_net_hdr *
vireo_rx_hdr(const struct rte_mbuf *m, uint32_t buf_offset, uint32_t hdr_size)
{
	return (const struct vireo_net_hdr *)(vireo_rx_buf_va(m, buf_offset) +
		RTE_PKTMBUF_HEADROOM - hdr_size);
}

static __rte_always_inline uint16_t
vireo_rx_burst(struct vireo_rxq *rxq, struct rte_mbuf **pkts, uint16_t n,
	       const enum vireo_vq_layout layout, const bool in_order)
{
	uint32_t lens[VIREO_RX_BURST_MAX];
	uint64_t bytes = 0;
	uint16_t got, i, kept = 0;
	/* Read once: the mbuf stores below might alias rxq for the
	 * compiler, which would then reload these per frame. */
	const uint32_t hdr_size = rxq->hdr_size;
	const uint32_t buf_offset = rxq->buf_offset;
	const bool offload = rxq->csum_offload || rxq->lro;
	const bool vlan_strip = rxq->vlan_strip;

	got = vireo_rx_take(rxq, pkts, lens,
			    RTE_MIN(n, (uint16_t)VIREO_RX_BURST_MAX), layout,
			    in_order);
	i = 0;
	/* The common case in a loop of its own: nothing to report from the
	 * header, nothing to strip, no short frame (the loop below takes
	 * over from the first).  Vector units first take groups of four
	 * whole frames at once (none in the scalar unit). */
	if (likely(!offload && !vlan_strip)) {
		i = vireo_dp_rx_init4(rxq, pkts, lens, got, &bytes);
		for (; i < got; i++) {
			uint32_t len = lens[i];

			if (unlikely(len <= hdr_size))
				break;
			len -= hdr_size;
			vireo_rx_init_mbuf(rxq, pkts[i], len);
			bytes += len;
		}
	}
	kept = i;
	for (; i < got; i++) {
		struct rte_mbuf *m = pkts[i];
		uint32_t len = lens[i];

		if (unlikely(len <= hdr_size)) {
			/* A device may complete a buffer with nothing in
			 * it; a frame without a header is no frame. */
			rxq->stats.errors++;
			rte_pktmbuf_free(m);
			continue;
		}
		len -= hdr_size;
		vireo_rx_init_mbuf(rxq, m, len);
		if (unlikely(offload))
			vireo_rx_offload(m, vireo_rx_hdr(m, buf_offset, hdr_size),
					 rxq->lro);
		if (unlikely(vlan_strip))
			rte_vlan_strip(m);
		bytes += len;
		pkts[kept++] = m;
	}
	vireo_rx_done(rxq, kept, bytes, layout, in_order);
	return kept;
}

/*
 * After a hand-over (another device got the ring), where in this burst
 * of 'got' buffers, taken from used position 'start', the new device's
 * first one is: 'got' when not in it (all older, or no hand-over
 * pending).  *before says whether a hand-over is pending at all.
 */
static __rte_always_inline uint16_t
vireo_rx_boundary(struct vireo_rxq *rxq, uint16_t start, uint16_t got,
		  bool *before)
{
	/* Acquire, after the ring reads of the take: a buffer of the new
	 * device seen there means this sees its generation (bumped before
	 * that device had the ring), with handover_pos. */
	uint32_t gen = __atomic_load_n(&rxq->q.device_gen, __ATOMIC_ACQUIRE);
	uint32_t k;

	if (unlikely(gen != rxq->seen_gen)) {
		rxq->seen_gen = gen;
		rxq->boundary = __atomic_load_n(&rxq->q.handover_pos,
						__ATOMIC_RELAXED);
		rxq->boundary_pending = true;
		if (rxq->partial_head != NULL)
			rxq->partial_old = true;
	}
	*before = rxq->boundary_pending;
	if (likely(!rxq->boundary_pending))
		return got;
	/* Rx buffers take one slot each: buffer i sat at start + i. */
	k = vireo_vq_used_distance(&rxq->q.vq, start, rxq->boundary);
	if (k > rxq->q.vq.size)
		k = 0;			/* passed already: all new */
	if (k >= got)
		return got;		/* not reached yet */
	rxq->boundary_pending = false;
	return (uint16_t)k;
}

/*
 * Mergeable buffers (5.1.6.3.2): the first buffer's header says how many
 * buffers the frame took; they come back consecutively.  A frame whose
 * buffers are not all used yet waits in rxq->partial_* for the next call.
 */
static __rte_always_inline uint16_t
vireo_rx_mrg_burst(struct vireo_rxq *rxq, struct rte_mbuf **pkts, uint16_t n,
		   const enum vireo_vq_layout layout, const bool in_order)
{
	/* Buffers are taken into pkts, frames handed out from its start:
	 * never past the buffer being read. */
	struct rte_mbuf **bufs = pkts;
	uint32_t lens[VIREO_RX_BURST_MAX];
	uint16_t start = vireo_vq_used_position(&rxq->q.vq);
	const uint32_t hdr_size = rxq->hdr_size, max_bufs = rxq->q.size;
	const uint32_t buf_offset = rxq->buf_offset;
	const bool offload = rxq->csum_offload || rxq->lro;
	const bool vlan_strip = rxq->vlan_strip;
	struct rte_mbuf *head, *tail;
	uint64_t bytes = 0;
	uint16_t got, i, done = 0, cut, left;
	bool before, old;

	got = vireo_rx_take(rxq, bufs, lens,
			    RTE_MIN(n, (uint16_t)VIREO_RX_BURST_MAX), layout,
			    in_order);
	/* From bufs[cut] on, buffers come from a device newer than any
	 * frame begun before it: such a frame's other buffers never come
	 * (its device is gone), and that buffer starts a new frame. */
	cut = vireo_rx_boundary(rxq, start, got, &before);
	/* The frame in progress in locals for the burst (mbuf stores may
	 * alias rxq for the compiler), back in rxq at the end. */
	head = rxq->partial_head;
	tail = rxq->partial_tail;
	left = rxq->partial_left;
	old = rxq->partial_old;
	i = 0;
	/* Whole frames of one buffer, nothing begun before, nothing to
	 * report or strip: the common case in a loop of its own, frames
	 * where their buffers are.  A frame of several buffers, or a bad
	 * header, is left to the loop after. */
	if (likely(head == NULL && !offload && !vlan_strip)) {
		for (; i < got; i++) {
			struct rte_mbuf *m = bufs[i];
			uint32_t len = lens[i];

			if (unlikely(len < hdr_size ||
				     vireo_rx_hdr(m, buf_offset,
						  hdr_size)->num_buffers != 1))
				break;
			len -= hdr_size;
			vireo_rx_init_mbuf(rxq, m, len);
			bytes += len;
		}
		done = i;
	}
	for (; i < got; i++) {
		struct rte_mbuf *m = bufs[i];
		uint32_t len = lens[i];

		if (unlikely(i == cut && head != NULL && old)) {
			/* its device is gone: the rest never comes */
			rte_pktmbuf_free(head);
			head = NULL;
			left = 0;
			rxq->stats.errors++;
		}
		if (likely(head == NULL)) {
			const struct vireo_net_hdr *hdr = vireo_rx_hdr(m,
						buf_offset, hdr_size);
			uint16_t nbufs = hdr->num_buffers;

			/* num_buffers is the device's word: bound it by
			 * what we posted before trusting it (0 wraps). */
			if (unlikely(len < hdr_size ||
				     (uint32_t)nbufs - 1 >= max_bufs)) {
				rxq->stats.errors++;
				rte_pktmbuf_free(m);
				continue;
			}
			len -= hdr_size;
			vireo_rx_init_mbuf(rxq, m, len);
			if (unlikely(offload))
				vireo_rx_offload(m, hdr, rxq->lro);
			if (likely(nbufs == 1)) {
				/* a whole frame: the common case */
				if (unlikely(vlan_strip))
					rte_vlan_strip(m);
				bytes += m->pkt_len;
				pkts[done++] = m;
				continue;
			}
			head = m;
			tail = m;
			left = nbufs - 1;
			/* begun by a device a pending hand-over replaces */
			old = before && i < cut;
			continue;
		}
		/* Later buffers carry no header: data from the start of
		 * what was posted. */
		m->data_off = RTE_PKTMBUF_HEADROOM - hdr_size;
		m->data_len = (uint16_t)len;
		tail->next = m;
		tail = m;
		head->pkt_len += len;
		head->nb_segs++;
		if (--left == 0) {
			if (unlikely(vlan_strip))
				rte_vlan_strip(head);
			bytes += head->pkt_len;
			pkts[done++] = head;
			head = NULL;
		}
	}
	rxq->partial_head = head;
	rxq->partial_tail = head != NULL ? tail : NULL;
	rxq->partial_left = left;
	rxq->partial_old = old;
	vireo_rx_done(rxq, done, bytes, layout, in_order);
	return done;
}

/* The entry points: layout and in-order are constants of each. */
#define VIREO_RX_ENTRY(name, body, layout, in_order) \
uint16_t \
VIREO_DP_NAME(name)(void *rxq, struct rte_mbuf **pkts, uint16_t n) \
{ \
	return body(rxq, pkts, n, layout, in_order); \
}

VIREO_RX_ENTRY(vireo_rx_split, vireo_rx_burst, VIREO_VQ_SPLIT, false)
VIREO_RX_ENTRY(vireo_rx_split_io, vireo_rx_burst, VIREO_VQ_SPLIT, true)
VIREO_RX_ENTRY(vireo_rx_packed, vireo_rx_burst, VIREO_VQ_PACKED, false)
VIREO_RX_ENTRY(vireo_rx_packed_io, vireo_rx_burst, VIREO_VQ_PACKED, true)
VIREO_RX_ENTRY(vireo_rx_mrg_split, vireo_rx_mrg_burst, VIREO_VQ_SPLIT, false)
VIREO_RX_ENTRY(vireo_rx_mrg_split_io, vireo_rx_mrg_burst, VIREO_VQ_SPLIT,
	       true)
VIREO_RX_ENTRY(vireo_rx_mrg_packed, vireo_rx_mrg_burst, VIREO_VQ_PACKED,
	       false)
VIREO_RX_ENTRY(vireo_rx_mrg_packed_io, vireo_rx_mrg_burst, VIREO_VQ_PACKED,
	       true)
