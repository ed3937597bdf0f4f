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

#include <rte_common.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_net.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "vireo_log.h"
#include "vireo_rxtx.h"

/* Packets whose header goes in front, added to the ring at once. */
#define VIREO_TX_PUSH_BATCH 32

/*
 * Frees sent mbufs.  The common case, a direct single-segment mbuf with
 * no other reference, goes straight back to its pool, in runs per pool;
 * anything else takes the general path.
 */
static __rte_always_inline void
vireo_tx_free(struct rte_mbuf **done, uint16_t n)
{
	void *run[VIREO_RX_BURST_MAX];
	struct rte_mempool *pool = NULL;
	uint16_t i, k = 0;

	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = done[i];

		if (unlikely(!RTE_MBUF_DIRECT(m) || m->next != NULL ||
			     rte_mbuf_refcnt_read(m) != 1)) {
			rte_pktmbuf_free(m);
			continue;
		}
		if (m->pool != pool) {
			if (k > 0)
				rte_mempool_put_bulk(pool, run, k);
			pool = m->pool;
			k = 0;
		}
		run[k++] = m;
	}
	if (k > 0)
		rte_mempool_put_bulk(pool, run, k);
}

/* Frees what the device has finished sending. */
static __rte_always_inline void
vireo_tx_reclaim(struct vireo_txq *txq, uint16_t want,
		 const enum vireo_vq_layout layout)
{
	struct rte_mbuf *done[VIREO_RX_BURST_MAX];
	uint32_t lens[VIREO_RX_BURST_MAX];
	int rc;

	while (want > 0) {
		rc = vireo_dp_get_used_burst(&txq->q.vq, (void **)done,
				lens, RTE_MIN(want, (uint16_t)VIREO_RX_BURST_MAX),
				layout);
		if (rc <= 0)
			return;
		vireo_tx_free(done, rc);
		if (rc < RTE_MIN(want, (uint16_t)VIREO_RX_BURST_MAX))
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
 * Can the header go in front of the data, in the mbuf itself?  Only if
 * the mbuf is ours alone (the headroom of a shared or indirect mbuf is
 * someone else's) and the data is in one segment.
 */
static __rte_always_inline bool
vireo_tx_can_push(const struct vireo_tx_params *p, const struct rte_mbuf *m)
{
	return m->nb_segs == 1 && RTE_MBUF_DIRECT(m) &&
		rte_mbuf_refcnt_read(m) == 1 &&
		rte_pktmbuf_headroom(m) >= p->hdr_size;
}

static __rte_always_inline void
vireo_tx_hdr_fill(const struct vireo_tx_params *p, struct vireo_net_hdr *hdr,
		  const struct rte_mbuf *m)
{
	uint64_t zero = 0;

	/* Exactly hdr_size bytes (10 for a legacy device without
	 * MRG_RXBUF, else 12; the frame may follow at once): two 8-byte
	 * stores, the first from the start and the second ending at the
	 * end, cover any size from 8 to 16 without a branch. */
	RTE_BUILD_BUG_ON(VIREO_NET_HDR_LEGACY_SIZE < sizeof(zero) ||
			 sizeof(*hdr) > 2 * sizeof(zero));
	memcpy(hdr, &zero, sizeof(zero));
	memcpy((char *)hdr + p->hdr_size - sizeof(zero), &zero, sizeof(zero));
	if (p->offload)
		vireo_tx_offload(hdr, m);
}

/* Writes the header into the headroom (the mbuf fields stay as they
 * are, so a packet the ring cannot take is unchanged for the retry). */
static __rte_always_inline void
vireo_tx_push_prepare(const struct vireo_tx_params *p, struct rte_mbuf *m,
		      struct vireo_buf *buf)
{
	vireo_tx_hdr_fill(p, (struct vireo_net_hdr *)
			  (rte_pktmbuf_mtod(m, char *) - p->hdr_size), m);
	buf->addr = vireo_mbuf_dev_addr(m, p->addr_offset) + m->data_off -
		p->hdr_size;
	buf->len = m->data_len + p->hdr_size;
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

	/* Without indirect tables a chain must fit the ring at once. */
	if (unlikely(m->nb_segs > VIREO_TX_MAX_SEGS ||
		     (!txq->use_indirect && m->nb_segs + 1u > vq->size))) {
		VIREO_DP_LOG(tx, ERR, "port %u Tx queue %u: packet of %u segments dropped: at most %u, and one less than the ring size without indirect descriptors",
			     txq->port_id, txq->queue_id, m->nb_segs,
			     VIREO_TX_MAX_SEGS);
		return VIREO_VQ_EINVAL;
	}
	vireo_tx_hdr_fill(&p, &txq->slot_mem[id].hdr, m);
	bufs[0].addr = txq->slot_mem_iova +
		(uint64_t)id * sizeof(struct vireo_tx_slot_mem);
	bufs[0].len = txq->hdr_size;
	for (seg = m; seg != NULL; seg = seg->next) {
		bufs[n].addr = vireo_mbuf_dev_addr(seg, txq->addr_offset) +
			seg->data_off;
		bufs[n].len = seg->data_len;
		n++;
	}
	if (txq->use_indirect)
		return vireo_vq_add_indirect(vq, bufs, n, 0, m);
	return vireo_vq_add(vq, bufs, n, 0, m);
}

static __rte_always_inline uint16_t
vireo_tx_burst(struct vireo_txq *txq, struct rte_mbuf **pkts, uint16_t n,
	       const enum vireo_vq_layout layout)
{
	const struct vireo_tx_params params = vireo_tx_params(txq);
	struct vireo_buf bufs[VIREO_TX_PUSH_BATCH];
	struct vireo_vq *vq = &txq->q.vq;
	uint64_t bytes = 0;
	uint16_t i = 0, run, added, dropped = 0;
	int rc;

	if (unlikely(vq->broken))
		return 0;
	if (vireo_vq_nfree(vq) < RTE_MAX(txq->free_thresh, n)) {
		vireo_tx_reclaim(txq, vq->size - vireo_vq_nfree(vq), layout);
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
		/* A run of packets that carry their header in front: one
		 * descriptor each, added together. */
		for (run = 0; i + run < n && run < VIREO_TX_PUSH_BATCH &&
		     vireo_tx_can_push(&params, pkts[i + run]); run++)
			vireo_tx_push_prepare(&params, pkts[i + run],
					      &bufs[run]);
		if (run > 0) {
			added = vireo_dp_add1_burst(vq, bufs,
					(void *const *)&pkts[i], run, 0, layout);
			for (uint16_t k = 0; k < added; k++)
				bytes += bufs[k].len - params.hdr_size;
			i += added;
			if (added < run)
				break;	/* ring full: the app retries the rest */
			continue;
		}
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

uint16_t
VIREO_DP_NAME(vireo_tx_split)(void *txq, struct rte_mbuf **pkts, uint16_t n)
{
	return vireo_tx_burst(txq, pkts, n, VIREO_VQ_SPLIT);
}

uint16_t
VIREO_DP_NAME(vireo_tx_packed)(void *txq, struct rte_mbuf **pkts, uint16_t n)
{
	return vireo_tx_burst(txq, pkts, n, VIREO_VQ_PACKED);
}

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
