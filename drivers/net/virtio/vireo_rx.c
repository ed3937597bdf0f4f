/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The Vireo Authors
 */

/*
 * Receive: one body for every layout, specialised by a constant, over
 * the ring core's driver role.  Buffers are whole mbufs posted as one
 * writable descriptor each, the virtio-net header at the end of the
 * headroom so the frame lands where mbuf data starts.
 */

#include <rte_common.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include "vireo_log.h"
#include "vireo_rxtx.h"

/* Posts one mbuf as a writable buffer. */
static __rte_always_inline int
vireo_rx_post(struct vireo_rxq *rxq, struct rte_mbuf *m)
{
	uint64_t addr = vireo_mbuf_dev_addr(m, rxq->addr_offset) +
		RTE_PKTMBUF_HEADROOM - rxq->hdr_size;

	return vireo_vq_add_in1(&rxq->q.vq, addr, rxq->buf_len, m);
}

/*
 * Refills every free descriptor it can from the pool, in bulk, and
 * publishes them at once.  Returns how many were posted.
 */
static __rte_always_inline uint16_t
vireo_rx_refill(struct vireo_rxq *rxq, uint16_t want)
{
	struct rte_mbuf *fresh[VIREO_RX_BURST_MAX];
	uint16_t posted = 0, chunk, i;

	while (want > 0) {
		chunk = RTE_MIN(want, (uint16_t)VIREO_RX_BURST_MAX);
		if (unlikely(rte_pktmbuf_alloc_bulk(rxq->mp, fresh, chunk) != 0)) {
			rxq->stats.nombuf += chunk;
			break;
		}
		for (i = 0; i < chunk; i++)
			if (unlikely(vireo_rx_post(rxq, fresh[i]) != 0))
				break;
		if (unlikely(i < chunk)) {
			rte_pktmbuf_free_bulk(&fresh[i], chunk - i);
			posted += i;
			break;
		}
		posted += chunk;
		want -= chunk;
	}
	if (posted > 0) {
		vireo_vq_publish(&rxq->q.vq);
		vireo_queue_kick(&rxq->q, &rxq->stats);
	}
	return posted;
}

int
vireo_rxq_fill(struct vireo_rxq *rxq)
{
	uint16_t free_slots = vireo_vq_nfree(&rxq->q.vq);

	if (vireo_rx_refill(rxq, free_slots) == 0 && free_slots > 0) {
		VIREO_LOG(rx, ERR, "port %u Rx queue %u: no mbufs to fill the ring",
			  rxq->port_id, rxq->queue_id);
		return -ENOMEM;
	}
	return 0;
}

/* A negative ring result: the device broke the queue (already marked
 * by the ring core); count it and say so once a second at most. */
static __rte_noinline void
vireo_rx_broken(struct vireo_rxq *rxq, int code)
{
	rxq->stats.errors++;
	vireo_queue_broken(&rxq->q, code);
}

/* Fills the mbuf fields of one received buffer of @len bytes. */
static __rte_always_inline void
vireo_rx_init_mbuf(struct vireo_rxq *rxq, struct rte_mbuf *m, uint32_t len)
{
	m->data_off = RTE_PKTMBUF_HEADROOM;
	m->data_len = (uint16_t)len;
	m->pkt_len = len;
	m->port = rxq->port_id;
	m->nb_segs = 1;
	m->next = NULL;
	m->ol_flags = 0;
	m->packet_type = 0;
}

static __rte_always_inline const struct vireo_net_hdr *
vireo_rx_hdr(const struct vireo_rxq *rxq, const struct rte_mbuf *m)
{
	return (const struct vireo_net_hdr *)((const char *)m->buf_addr +
		RTE_PKTMBUF_HEADROOM - rxq->hdr_size);
}

static __rte_always_inline uint16_t
vireo_rx_burst(struct vireo_rxq *rxq, struct rte_mbuf **pkts, uint16_t n)
{
	uint32_t lens[VIREO_RX_BURST_MAX];
	struct vireo_vq *vq = &rxq->q.vq;
	uint64_t bytes = 0;
	uint16_t got, i, kept = 0;
	int rc;

	n = RTE_MIN(n, (uint16_t)VIREO_RX_BURST_MAX);
	rc = vireo_vq_get_used_burst(vq, (void **)pkts, lens, n);
	if (unlikely(rc < 0)) {
		vireo_rx_broken(rxq, rc);
		return 0;
	}
	got = rc;
	for (i = 0; i < got; i++) {
		struct rte_mbuf *m = pkts[i];
		uint32_t len = lens[i];

		if (unlikely(len <= rxq->hdr_size)) {
			/* A device may complete a buffer with nothing in
			 * it; a frame without a header is no frame. */
			rxq->stats.errors++;
			rte_pktmbuf_free(m);
			continue;
		}
		len -= rxq->hdr_size;
		vireo_rx_init_mbuf(rxq, m, len);
		if (rxq->csum_offload || rxq->lro)
			vireo_rx_offload(m, vireo_rx_hdr(rxq, m), rxq->lro);
		bytes += len;
		pkts[kept++] = m;
	}
	rxq->stats.packets += kept;
	rxq->stats.bytes += bytes;
	if (vireo_vq_nfree(vq) >= VIREO_RX_REFILL_BATCH)
		vireo_rx_refill(rxq, vireo_vq_nfree(vq));
	return kept;
}

/*
 * Mergeable buffers (5.1.6.3.2): the first buffer's header says how many
 * buffers the frame took; they come back consecutively.  A frame whose
 * buffers are not all used yet waits in rxq->partial_* for the next call.
 */
static __rte_always_inline uint16_t
vireo_rx_mrg_burst(struct vireo_rxq *rxq, struct rte_mbuf **pkts, uint16_t n)
{
	struct rte_mbuf *bufs[VIREO_RX_BURST_MAX];
	uint32_t lens[VIREO_RX_BURST_MAX];
	struct vireo_vq *vq = &rxq->q.vq;
	uint64_t bytes = 0;
	uint16_t got, i, done = 0;
	int rc;

	n = RTE_MIN(n, (uint16_t)VIREO_RX_BURST_MAX);
	rc = vireo_vq_get_used_burst(vq, (void **)bufs, lens, n);
	if (unlikely(rc < 0)) {
		vireo_rx_broken(rxq, rc);
		return 0;
	}
	got = rc;
	for (i = 0; i < got; i++) {
		struct rte_mbuf *m = bufs[i];
		uint32_t len = lens[i];

		if (rxq->partial_head == NULL) {
			const struct vireo_net_hdr *hdr = vireo_rx_hdr(rxq, m);
			uint16_t nbufs = hdr->num_buffers;

			/* num_buffers is the device's word: bound it by
			 * what we posted before trusting it. */
			if (unlikely(len < rxq->hdr_size || nbufs == 0 ||
				     nbufs > rxq->q.size)) {
				rxq->stats.errors++;
				rte_pktmbuf_free(m);
				continue;
			}
			len -= rxq->hdr_size;
			vireo_rx_init_mbuf(rxq, m, len);
			if (rxq->csum_offload || rxq->lro)
				vireo_rx_offload(m, hdr, rxq->lro);
			rxq->partial_head = m;
			rxq->partial_tail = m;
			rxq->partial_left = nbufs - 1;
		} else {
			struct rte_mbuf *head = rxq->partial_head;

			m->data_off = RTE_PKTMBUF_HEADROOM - rxq->hdr_size;
			m->data_len = (uint16_t)len;
			m->next = NULL;
			m->nb_segs = 1;
			rxq->partial_tail->next = m;
			rxq->partial_tail = m;
			head->pkt_len += len;
			head->nb_segs++;
			rxq->partial_left--;
		}
		if (rxq->partial_left == 0) {
			struct rte_mbuf *head = rxq->partial_head;

			bytes += head->pkt_len;
			pkts[done++] = head;
			rxq->partial_head = NULL;
			rxq->partial_tail = NULL;
		}
	}
	rxq->stats.packets += done;
	rxq->stats.bytes += bytes;
	if (vireo_vq_nfree(vq) >= VIREO_RX_REFILL_BATCH)
		vireo_rx_refill(rxq, vireo_vq_nfree(vq));
	return done;
}

uint16_t
vireo_rx_split(void *rxq, struct rte_mbuf **pkts, uint16_t n)
{
	return vireo_rx_burst(rxq, pkts, n);
}

uint16_t
vireo_rx_packed(void *rxq, struct rte_mbuf **pkts, uint16_t n)
{
	return vireo_rx_burst(rxq, pkts, n);
}

uint16_t
vireo_rx_mrg_split(void *rxq, struct rte_mbuf **pkts, uint16_t n)
{
	return vireo_rx_mrg_burst(rxq, pkts, n);
}

uint16_t
vireo_rx_mrg_packed(void *rxq, struct rte_mbuf **pkts, uint16_t n)
{
	return vireo_rx_mrg_burst(rxq, pkts, n);
}
