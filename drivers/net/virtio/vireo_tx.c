/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The Vireo Authors
 */

/*
 * Transmit: one body for every layout over the ring core's driver role.
 *
 * A packet goes out in one of three shapes:
 *  - pushed: one segment it owns alone, with headroom for the header:
 *    the header is written in front of the data and the frame is one
 *    readable descriptor (the common case, and the cheapest);
 *  - indirect: when negotiated, the header (in our per-id slot memory)
 *    and every segment go in the id's indirect table: one ring slot;
 *  - chained: the header descriptor then one descriptor per segment.
 *
 * The vector units (vireo_rxtx_vec_*.c) compile this file again with
 * VIREO_VEC_NAME set, over the ring core's vector batch primitives.
 */

#include <string.h>

#include <rte_common.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_net.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "vireo_log.h"
#include "vireo_rxtx.h"

/*
 * The mbuf fields a pushed packet is judged by, read as words: the
 * rearm word (data_off, refcnt, nb_segs, port) and ol_flags.
 */
_Static_assert(offsetof(struct rte_mbuf, refcnt) ==
	       offsetof(struct rte_mbuf, rearm_data) + 2 &&
	       offsetof(struct rte_mbuf, nb_segs) ==
	       offsetof(struct rte_mbuf, rearm_data) + 4 &&
	       offsetof(struct rte_mbuf, data_off) ==
	       offsetof(struct rte_mbuf, rearm_data),
	       "data_off, refcnt, nb_segs: the rearm word");

/* refcnt 1 and nb_segs 1: bits 16-47 of the rearm word */
#define VIREO_TX_SIMPLE		UINT32_C(0x00010001)
#define VIREO_TX_NOT_DIRECT	(RTE_MBUF_F_INDIRECT | RTE_MBUF_F_EXTERNAL)
/* Both are the top bits of ol_flags (bit 63 is not defined): a shift
 * tests them, with no 64-bit mask to load. */
#define VIREO_TX_NOT_DIRECT_SHIFT	61
_Static_assert(VIREO_TX_NOT_DIRECT ==
	       (UINT64_C(3) << VIREO_TX_NOT_DIRECT_SHIFT),
	       "indirect and external are bits 61 and 62 of ol_flags");

static __rte_always_inline uint64_t
vireo_mbuf_rearm(const struct rte_mbuf *m)
{
	uint64_t w;

	memcpy(&w, &m->rearm_data, sizeof(w));
	return w;
}

/*
 * Can the header go in front, in the mbuf's own headroom: one segment,
 * one reference, its own buffer (the headroom of a shared or indirect
 * mbuf is someone else's), and room for the header.  A single-segment
 * mbuf has no next (rte_mbuf_check), so this reads only the mbuf's first
 * cache line; one branch for the four tests.
 */
static __rte_always_inline bool
vireo_tx_can_push(const struct rte_mbuf *m, uint64_t rearm, uint16_t hdr_size)
{
	return (((uint32_t)(rearm >> 16) ^ VIREO_TX_SIMPLE) |
		(uint32_t)(m->ol_flags >> VIREO_TX_NOT_DIRECT_SHIFT) |
		(uint32_t)((uint16_t)rearm < hdr_size)) == 0;
}

/*
 * Frees sent mbufs.  Pushed ones of one pool go straight back to it in
 * one call (with MBUF_FAST_FREE the app promised one pool: no mbuf is
 * read at all); anything else takes the general path, mbuf by mbuf.
 */
static __rte_always_inline void
vireo_tx_free(const struct vireo_txq *txq, struct rte_mbuf **done, uint16_t n)
{
	struct rte_mempool *pool;
	uint16_t i;

	for (i = 0; i < n; i++)
		if (unlikely((uintptr_t)done[i] & VIREO_TX_GATHERED))
			break;
	if (likely(i > 0)) {
		pool = done[0]->pool;
		if (!txq->fast_free) {
			uint16_t k;

			for (k = 1; k < i; k++)
				if (unlikely(done[k]->pool != pool))
					break;
			i = k;
		}
		rte_mempool_put_bulk(pool, (void **)done, i);
	}
	for (; i < n; i++)
		rte_pktmbuf_free(vireo_tx_cookie_mbuf(done[i]));
}

/* Frees what the device has finished sending. */
static __rte_always_inline void
vireo_tx_reclaim(struct vireo_txq *txq, uint16_t want,
		 const enum vireo_vq_layout layout, const bool in_order)
{
	struct rte_mbuf *done[VIREO_RX_BURST_MAX];
	int rc;

	while (want > 0) {
		uint16_t chunk = RTE_MIN(want, (uint16_t)VIREO_RX_BURST_MAX);

		rc = vireo_dp_get_used_burst(&txq->q.vq, (void **)done, NULL,
					     chunk, layout, in_order);
		if (rc <= 0)
			return;
		vireo_tx_free(txq, done, rc);
		if (rc < chunk)
			return;
		want -= rc;
	}
}

/*
 * What the per-packet Tx work reads of the queue, copied into a local
 * once per burst: header stores (char stores) may alias anything as far
 * as the compiler knows, so fields read through txq would be reloaded
 * after every packet.
 */
struct vireo_tx_params {
	uint16_t hdr_size;
	uint16_t addr_offset;
	bool offload;
};

static __rte_always_inline struct vireo_tx_params
vireo_tx_params(const struct vireo_txq *txq)
{
	return (struct vireo_tx_params){ txq->hdr_size, txq->addr_offset,
					 txq->offload };
}

/*
 * Zeroes exactly hdr_size bytes (10 for a legacy device without
 * MRG_RXBUF, else 12; the frame may follow at once) with two 8-byte
 * accesses, the first from the start and the second ending at the end,
 * which cover any size from 8 to 16 without a branch.  Stores only if
 * some byte is not zero yet: the header line of a reused mbuf was last
 * read by the device, and left unwritten it stays shared between the
 * two cores, where a store would first have to take it back from the
 * device's cache; the fence before the notification check then waits
 * for every such store of the burst.
 */
static __rte_always_inline void
vireo_tx_hdr_zero(char *hdr, uint16_t hdr_size)
{
	const uint64_t zero = 0;
	uint64_t head, tail;

	RTE_BUILD_BUG_ON(VIREO_NET_HDR_LEGACY_SIZE < sizeof(zero) ||
			 sizeof(struct vireo_net_hdr) > 2 * sizeof(zero));
	memcpy(&head, hdr, sizeof(head));
	memcpy(&tail, hdr + hdr_size - sizeof(tail), sizeof(tail));
	if ((head | tail) != 0) {
		memcpy(hdr, &zero, sizeof(zero));
		memcpy(hdr + hdr_size - sizeof(zero), &zero, sizeof(zero));
	}
}

static __rte_always_inline void
vireo_tx_hdr_fill(const struct vireo_tx_params *p, struct vireo_net_hdr *hdr,
		  const struct rte_mbuf *m, const bool offload)
{
	vireo_tx_hdr_zero((char *)hdr, p->hdr_size);
	if (offload)
		vireo_tx_offload(hdr, m);
}

/* Header in our slot memory, then the segments: indirect or chained. */
static __rte_noinline int
vireo_tx_gather(struct vireo_txq *txq, struct rte_mbuf *m)
{
	const struct vireo_tx_params p = vireo_tx_params(txq);
	struct vireo_buf bufs[VIREO_TX_MAX_SEGS + 1];
	struct vireo_vq *vq = &txq->q.vq;
	uint16_t id = vireo_vq_next_id(vq);
	struct rte_mbuf *seg;
	uint16_t n = 1;
	void *cookie;

	/* Without indirect tables a chain must fit the ring at once. */
	if (unlikely(m->nb_segs > VIREO_TX_MAX_SEGS ||
		     (!txq->use_indirect && m->nb_segs + 1u > vq->size))) {
		VIREO_DP_LOG(tx, ERR, "port %u Tx queue %u: packet of %u segments dropped: at most %u, and one less than the ring size without indirect descriptors",
			     txq->port_id, txq->queue_id, m->nb_segs,
			     VIREO_TX_MAX_SEGS);
		return VIREO_VQ_EINVAL;
	}
	vireo_tx_hdr_fill(&p, &txq->slot_mem[id].hdr, m, p.offload);
	bufs[0].addr = txq->slot_mem_iova +
		(uint64_t)id * sizeof(struct vireo_tx_slot_mem);
	bufs[0].len = txq->hdr_size;
	for (seg = m; seg != NULL; seg = seg->next) {
		bufs[n].addr = vireo_mbuf_dev_addr(seg, txq->addr_offset) +
			seg->data_off;
		bufs[n].len = seg->data_len;
		n++;
	}
	cookie = (void *)((uintptr_t)m | VIREO_TX_GATHERED);
	if (txq->use_indirect)
		return vireo_vq_add_indirect(vq, bufs, n, 0, cookie);
	return vireo_vq_add(vq, bufs, n, 0, cookie);
}

/*
 * Pushes one packet if it can carry its header in front: the header
 * into the headroom and one descriptor for header and frame.  Returns
 * false (nothing done) if it cannot.
 */
static __rte_always_inline bool
vireo_tx_push1(const struct vireo_tx_params *p, struct vireo_vq_run *run,
	       struct rte_mbuf *m, uint64_t *bytes,
	       const enum vireo_vq_layout layout, const bool in_order,
	       const bool offload, const bool first)
{
	uint64_t rearm = vireo_mbuf_rearm(m);
	uint16_t data_off = (uint16_t)rearm;

	if (unlikely(!vireo_tx_can_push(m, rearm, p->hdr_size)))
		return false;
	vireo_tx_hdr_fill(p, (struct vireo_net_hdr *)((char *)m->buf_addr +
			  data_off - p->hdr_size), m, offload);
	vireo_vq_run_add(run, vireo_mbuf_dev_addr(m, p->addr_offset) +
			 data_off - p->hdr_size, m->data_len + p->hdr_size,
			 0, 0, m, layout, in_order, first);
	*bytes += m->data_len;
	return true;
}

#if defined(VIREO_VEC_NAME) && defined(__AVX2__)
/*
 * Pushes groups of four packets from pkts[0] on while all four can carry
 * their header in front (vireo_tx_push1 each, their descriptors added
 * four at a time): returns how many (a multiple of four), their bytes
 * added to *bytes.  @first: pkts[0] is the run's first add.
 */
static __rte_always_inline uint16_t
vireo_tx_push4(const struct vireo_tx_params *p, struct vireo_vq_run *run,
	       struct rte_mbuf **pkts, uint16_t n, uint64_t *bytes,
	       const enum vireo_vq_layout layout, const bool in_order,
	       const bool first)
{
	uint16_t i, k;

	for (i = 0; i + VIREO_VEC_BATCH <= n; i += VIREO_VEC_BATCH) {
		uint64_t addr[VIREO_VEC_BATCH], sent = 0;
		uint32_t len[VIREO_VEC_BATCH], bad = 0;
		bool ok;

		for (k = 0; k < VIREO_VEC_BATCH; k++)
			bad |= !vireo_tx_can_push(pkts[i + k],
				vireo_mbuf_rearm(pkts[i + k]), p->hdr_size);
		if (bad)
			break;
		for (k = 0; k < VIREO_VEC_BATCH; k++) {
			struct rte_mbuf *m = pkts[i + k];
			char *hdr = (char *)m->buf_addr + m->data_off -
				p->hdr_size;

			vireo_tx_hdr_zero(hdr, p->hdr_size);
			addr[k] = vireo_mbuf_dev_addr(m, p->addr_offset) +
				m->data_off - p->hdr_size;
			len[k] = m->data_len + p->hdr_size;
			sent += m->data_len;
		}
		ok = vireo_vq_run_add4(run,
			_mm256_loadu_si256((const __m256i *)addr),
			_mm_loadu_si128((const __m128i *)len), 0,
			(void *const *)(pkts + i), layout, in_order,
			first && i == 0);
		if (!ok)
			break;	/* the headers written stay: rewritten then */
		*bytes += sent;
	}
	return i;
}
#else
/* the scalar unit pushes one at a time */
#define vireo_tx_push4(p, run, pkts, n, bytes, layout, in_order, first) \
	((uint16_t)0)
#endif

/*
 * Adds packets that carry their header in front, from pkts[0] on, as
 * one run of one-descriptor buffers; stops at the first that cannot
 * (or when the ring is full).  Returns how many were added.
 */
static __rte_always_inline uint16_t
vireo_tx_push_run(struct vireo_txq *txq, const struct vireo_tx_params *p,
		  struct rte_mbuf **pkts, uint16_t n, uint64_t *bytes,
		  const enum vireo_vq_layout layout, const bool in_order,
		  const bool offload)
{
	struct vireo_vq_run run;
	uint16_t room, i = 0;
	uint64_t sent = 0;

	room = vireo_vq_run_begin(&txq->q.vq, &run, n, layout);
	/* Vector units: groups of four at once where they can (none in the
	 * scalar unit, nor with offloads). */
	if (!offload)
		i = vireo_tx_push4(p, &run, pkts, room, &sent, layout,
				   in_order, true);
	/* the first add apart: only it may be the head withheld */
	if (i == 0) {
		if (room == 0 || !vireo_tx_push1(p, &run, pkts[0], &sent,
						 layout, in_order, offload,
						 true))
			goto end;
		i = 1;
	}
	for (; i < room && vireo_tx_push1(p, &run, pkts[i], &sent, layout,
					  in_order, offload, false); i++)
		;
end:
	vireo_vq_run_end(&txq->q.vq, &run, layout, in_order);
	*bytes += sent;
	return i;
}

static __rte_always_inline uint16_t
vireo_tx_burst(struct vireo_txq *txq, struct rte_mbuf **pkts, uint16_t n,
	       const enum vireo_vq_layout layout, const bool in_order)
{
	const struct vireo_tx_params params = vireo_tx_params(txq);
	struct vireo_vq *vq = &txq->q.vq;
	uint64_t bytes = 0;
	uint16_t i = 0, added, dropped = 0;
	int rc;

	if (unlikely(vq->broken))
		return 0;
	if (vireo_vq_nfree(vq) < RTE_MAX(txq->free_thresh, n)) {
		vireo_tx_reclaim(txq, vq->size - vireo_vq_nfree(vq), layout,
				 in_order);
		/* the device broke the ring: count it and say why, once */
		if (unlikely(vq->broken)) {
			int why = vireo_vq_break_news(vq);

			if (why != 0) {
				txq->stats.errors++;
				vireo_queue_broken(&txq->q, why);
			}
			return 0;
		}
	}

	while (i < n) {
		/* offloads asked or not: one loop each */
		added = unlikely(params.offload) ?
			vireo_tx_push_run(txq, &params, pkts + i, n - i,
					  &bytes, layout, in_order, true) :
			vireo_tx_push_run(txq, &params, pkts + i, n - i,
					  &bytes, layout, in_order, false);
		i += added;
		if (i == n || vireo_vq_nfree(vq) == 0)
			break;	/* all sent, or the ring is full */
		/* The next packet needs a header of its own. */
		rc = vireo_tx_gather(txq, pkts[i]);
		if (unlikely(rc != 0)) {
			if (rc != VIREO_VQ_EINVAL)
				break;	/* ring full (or broken) */
			/* It can never go: drop it, count it. */
			txq->stats.errors++;
			dropped++;
			rte_pktmbuf_free(pkts[i]);
		} else {
			bytes += pkts[i]->pkt_len;
		}
		i++;
	}
	if (likely(i > dropped))
		vireo_queue_flush(&txq->q, &txq->stats, layout);
	txq->stats.packets += i - dropped;
	txq->stats.bytes += bytes;
	return i;
}

/* The entry points: layout and in-order are constants of each. */
#define VIREO_TX_ENTRY(name, layout, in_order) \
uint16_t \
VIREO_DP_NAME(name)(void *txq, struct rte_mbuf **pkts, uint16_t n) \
{ \
	return vireo_tx_burst(txq, pkts, n, layout, in_order); \
}

VIREO_TX_ENTRY(vireo_tx_split, VIREO_VQ_SPLIT, false)
VIREO_TX_ENTRY(vireo_tx_split_io, VIREO_VQ_SPLIT, true)
VIREO_TX_ENTRY(vireo_tx_packed, VIREO_VQ_PACKED, false)
VIREO_TX_ENTRY(vireo_tx_packed_io, VIREO_VQ_PACKED, true)

#ifndef VIREO_VEC_NAME

/*
 * tx_pkt_prepare: checks what the header cannot express, and seeds the
 * pseudo-header checksum the device completes (as a NIC would want).
 */
uint16_t
vireo_tx_prepare(void *queue __rte_unused, struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t i;
	int ret;

	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];

		if (m->nb_segs > VIREO_TX_MAX_SEGS) {
			rte_errno = EINVAL;
			return i;
		}
		ret = rte_net_intel_cksum_prepare(m);
		if (ret != 0) {
			rte_errno = -ret;
			return i;
		}
	}
	return n;
}
#endif
