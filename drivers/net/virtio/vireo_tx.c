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
 */

#include <rte_common.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_net.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "vireo_log.h"
#include "vireo_rxtx.h"

/* Frees what the device has finished sending. */
static __rte_always_inline void
vireo_tx_reclaim(struct vireo_txq *txq, uint16_t want)
{
	struct rte_mbuf *done[VIREO_RX_BURST_MAX];
	uint32_t lens[VIREO_RX_BURST_MAX];
	int rc;

	while (want > 0) {
		rc = vireo_vq_get_used_burst(&txq->q.vq, (void **)done, lens,
				RTE_MIN(want, (uint16_t)VIREO_RX_BURST_MAX));
		if (rc <= 0) {
			if (unlikely(rc < 0)) {
				txq->stats.errors++;
				vireo_queue_broken(&txq->q, rc);
			}
			return;
		}
		rte_pktmbuf_free_bulk(done, rc);
		if (rc < RTE_MIN(want, (uint16_t)VIREO_RX_BURST_MAX))
			return;
		want -= rc;
	}
}

/* Can the header go in front of the data, in the mbuf itself? */
static __rte_always_inline bool
vireo_tx_can_push(const struct vireo_txq *txq, const struct rte_mbuf *m)
{
	return m->nb_segs == 1 && RTE_MBUF_DIRECT(m) &&
		rte_mbuf_refcnt_read(m) == 1 &&
		rte_pktmbuf_headroom(m) >= txq->hdr_size &&
		((m->data_off - txq->hdr_size) & (__alignof__(struct vireo_net_hdr) - 1)) == 0;
}

static __rte_always_inline void
vireo_tx_hdr_fill(const struct vireo_txq *txq, struct vireo_net_hdr *hdr,
		  const struct rte_mbuf *m)
{
	memset(hdr, 0, sizeof(*hdr));
	if (txq->offload)
		vireo_tx_offload(hdr, m);
}

static __rte_always_inline int
vireo_tx_push(struct vireo_txq *txq, struct rte_mbuf *m)
{
	uint64_t addr = vireo_mbuf_dev_addr(m, txq->addr_offset) +
		m->data_off - txq->hdr_size;
	struct vireo_net_hdr *hdr = (struct vireo_net_hdr *)
		(rte_pktmbuf_mtod(m, char *) - txq->hdr_size);

	vireo_tx_hdr_fill(txq, hdr, m);
	return vireo_vq_add_out1(&txq->q.vq, addr, m->data_len + txq->hdr_size,
				 m);
}

/* Header in our slot memory, then the segments: indirect or chained. */
static __rte_noinline int
vireo_tx_gather(struct vireo_txq *txq, struct rte_mbuf *m)
{
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
	vireo_tx_hdr_fill(txq, &txq->slot_mem[id].hdr, m);
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
vireo_tx_burst(struct vireo_txq *txq, struct rte_mbuf **pkts, uint16_t n)
{
	struct vireo_vq *vq = &txq->q.vq;
	uint64_t bytes = 0;
	uint16_t sent, dropped = 0;
	int rc;

	if (unlikely(vq->broken))
		return 0;
	if (vireo_vq_nfree(vq) < RTE_MAX(txq->free_thresh, n))
		vireo_tx_reclaim(txq, vq->size - vireo_vq_nfree(vq));

	for (sent = 0; sent < n; sent++) {
		struct rte_mbuf *m = pkts[sent];
		uint32_t len = m->pkt_len;

		if (vireo_tx_can_push(txq, m))
			rc = vireo_tx_push(txq, m);
		else
			rc = vireo_tx_gather(txq, m);
		if (unlikely(rc != 0)) {
			if (rc == VIREO_VQ_EINVAL) {
				/* Cannot ever go: drop it, count it. */
				txq->stats.errors++;
				dropped++;
				rte_pktmbuf_free(m);
				continue;
			}
			break;	/* ring full (or broken): the app retries */
		}
		bytes += len;
	}
	if (likely(sent > dropped)) {
		vireo_vq_publish(vq);
		vireo_queue_kick(&txq->q, &txq->stats);
	}
	txq->stats.packets += sent - dropped;
	txq->stats.bytes += bytes;
	return sent;
}

uint16_t
vireo_tx_split(void *txq, struct rte_mbuf **pkts, uint16_t n)
{
	return vireo_tx_burst(txq, pkts, n);
}

uint16_t
vireo_tx_packed(void *txq, struct rte_mbuf **pkts, uint16_t n)
{
	return vireo_tx_burst(txq, pkts, n);
}

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
