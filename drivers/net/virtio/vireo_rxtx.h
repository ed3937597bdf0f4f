/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The Vireo Authors
 */

/*
 * The data path: burst functions per (layout, mergeable) and the one
 * place that picks them at dev_start.  Helpers for the virtio-net header
 * shared by every path live here as static inlines.
 */

#ifndef VIREO_RXTX_H
#define VIREO_RXTX_H

#include <rte_mbuf.h>
#include <rte_ip.h>
#include <rte_net.h>
#include <rte_tcp.h>
#include <rte_udp.h>
#include <ethdev_driver.h>

#include "vireo_dev.h"

/* Rx refill waits until this many descriptors are free: one bulk
 * allocation and one publish per batch. */
#define VIREO_RX_REFILL_BATCH	32

/*
 * Burst functions, by layout, Rx buffer mode and in-order (_io), each
 * built with those as constants; the vector units add their ISA name.
 */
#define VIREO_DP_DECLARE(sfx) \
	uint16_t vireo_rx_split##sfx(void *, struct rte_mbuf **, uint16_t); \
	uint16_t vireo_rx_split_io##sfx(void *, struct rte_mbuf **, uint16_t); \
	uint16_t vireo_rx_packed##sfx(void *, struct rte_mbuf **, uint16_t); \
	uint16_t vireo_rx_packed_io##sfx(void *, struct rte_mbuf **, uint16_t); \
	uint16_t vireo_rx_mrg_split##sfx(void *, struct rte_mbuf **, uint16_t); \
	uint16_t vireo_rx_mrg_split_io##sfx(void *, struct rte_mbuf **, \
					    uint16_t); \
	uint16_t vireo_rx_mrg_packed##sfx(void *, struct rte_mbuf **, \
					  uint16_t); \
	uint16_t vireo_rx_mrg_packed_io##sfx(void *, struct rte_mbuf **, \
					     uint16_t); \
	uint16_t vireo_tx_split##sfx(void *, struct rte_mbuf **, uint16_t); \
	uint16_t vireo_tx_split_io##sfx(void *, struct rte_mbuf **, uint16_t); \
	uint16_t vireo_tx_packed##sfx(void *, struct rte_mbuf **, uint16_t); \
	uint16_t vireo_tx_packed_io##sfx(void *, struct rte_mbuf **, uint16_t)

VIREO_DP_DECLARE();
uint16_t vireo_tx_prepare(void *txq, struct rte_mbuf **pkts, uint16_t n);

/*
 * Vector data paths: vireo_rx.c and vireo_tx.c compiled again by one
 * unit per instruction set (vireo_rxtx_vec_<isa>.c, built for it), their
 * entry points suffixed with its name.  Same bodies, so the same
 * packets, lengths and ring state as the scalar ones (test_vring_vec
 * checks the ring primitives they differ by).
 */
enum vireo_isa {
	VIREO_ISA_SCALAR,
	VIREO_ISA_SSE,		/* SSE4.2 */
	VIREO_ISA_AVX2,
	VIREO_ISA_AVX512,	/* F, BW, VL, DQ */
	VIREO_ISA_COUNT
};

#ifdef RTE_ARCH_X86_64
VIREO_DP_DECLARE(_sse);
VIREO_DP_DECLARE(_avx2);
VIREO_DP_DECLARE(_avx512);
#endif

/* What the burst bodies call, per unit. */
#ifdef VIREO_VEC_NAME
#define VIREO_DP_CAT2(a, b)	a ## _ ## b
#define VIREO_DP_CAT(a, b)	VIREO_DP_CAT2(a, b)
#define VIREO_DP_NAME(fn)	VIREO_DP_CAT(fn, VIREO_VEC_NAME)
#define vireo_dp_get_used_burst	vireo_vq_get_used_burst_vec_mode
#else
#define VIREO_DP_NAME(fn)	fn
#define vireo_dp_get_used_burst	vireo_vq_get_used_burst_mode
#define vireo_dp_rx_init4(rxq, pkts, lens, n, bytes)	((uint16_t)0)
#define vireo_dp_refill4(run, fresh, n, buf_offset, addr_offset, lead, \
			 buf_len, layout, in_order)	((uint16_t)0)
#endif

int vireo_rxq_fill(struct vireo_rxq *rxq);
void vireo_select_path(struct rte_eth_dev *eth_dev);
void vireo_set_stopped_path(struct rte_eth_dev *eth_dev);
void vireo_path_attach(struct rte_eth_dev *eth_dev);
void vireo_queue_broken(struct vireo_queue *q, int code);

int vireo_xstats_get(struct rte_eth_dev *eth_dev, struct rte_eth_xstat *xstats,
		     unsigned int n);
int vireo_xstats_get_names(struct rte_eth_dev *eth_dev,
			   struct rte_eth_xstat_name *names, unsigned int n);

/* Feature bits in words, for logs: "VERSION_1 RING_PACKED ...". */
void vireo_feature_names(uint64_t features, char *buf, size_t len);

/*
 * The Tx cookie of a packet that went out with a header of its own (not
 * pushed: chained, shared, indirect, ...) carries this low bit (mbufs
 * are cache line aligned), so the reclaim knows which mbufs were simple
 * when pushed and are simple still: no one else holds a reference to an
 * mbuf of refcnt 1 that the app gave away.
 */
#define VIREO_TX_GATHERED	((uintptr_t)1)

/* The mbuf of a Tx cookie. */
static __rte_always_inline struct rte_mbuf *
vireo_tx_cookie_mbuf(const void *cookie)
{
	return (struct rte_mbuf *)((uintptr_t)cookie & ~VIREO_TX_GATHERED);
}

/* Publish what was added and kick the device if it asked for one. */
static __rte_always_inline void
vireo_queue_flush(struct vireo_queue *q, struct vireo_queue_stats *stats,
		  const enum vireo_vq_layout layout)
{
	int need;

	vireo_vq_publish_layout(&q->vq, layout);
	need = vireo_vq_kick_prepare_layout(&q->vq, layout);

	if (need > 0) {
		q->notify(q);
		stats->kicks++;
	}
}

/* Offload flags an Rx header asks us to report (5.1.6.4). */
static __rte_always_inline void
vireo_rx_offload(struct rte_mbuf *m, const struct vireo_net_hdr *hdr,
		 bool lro)
{
	struct rte_net_hdr_lens lens;
	uint32_t ptype;

	if (hdr->flags == 0 && hdr->gso_type == VIREO_NET_HDR_GSO_NONE)
		return;
	ptype = rte_net_get_ptype(m, &lens, RTE_PTYPE_ALL_MASK);
	m->packet_type = ptype;
	if (hdr->flags & VIREO_NET_HDR_F_NEEDS_CSUM) {
		/* The checksum is partial: the data is good, the field is
		 * not filled in.  Report it so; complete it if the stack
		 * cannot take a partial checksum. */
		uint32_t hdrlen = lens.l2_len + lens.l3_len + lens.l4_len;

		if (hdr->csum_start <= hdrlen && (ptype & RTE_PTYPE_L4_MASK))
			m->ol_flags |= RTE_MBUF_F_RX_L4_CKSUM_NONE;
		else if (hdr->csum_start + hdr->csum_offset + 2 <= m->data_len) {
			uint16_t csum = 0, off = hdr->csum_start;

			if (rte_raw_cksum_mbuf(m, off, m->pkt_len - off,
					       &csum) == 0) {
				if (likely(csum != 0xffff))
					csum = ~csum;
				*rte_pktmbuf_mtod_offset(m, uint16_t *,
					off + hdr->csum_offset) = csum;
				m->ol_flags |= RTE_MBUF_F_RX_L4_CKSUM_GOOD;
			}
		}
	} else if (hdr->flags & VIREO_NET_HDR_F_DATA_VALID) {
		m->ol_flags |= RTE_MBUF_F_RX_L4_CKSUM_GOOD;
	}
	if (lro && hdr->gso_type != VIREO_NET_HDR_GSO_NONE &&
	    hdr->gso_size != 0) {
		switch (hdr->gso_type & ~VIREO_NET_HDR_GSO_ECN) {
		case VIREO_NET_HDR_GSO_TCPV4:
		case VIREO_NET_HDR_GSO_TCPV6:
			m->ol_flags |= RTE_MBUF_F_RX_LRO |
				RTE_MBUF_F_RX_L4_CKSUM_NONE;
			m->tso_segsz = hdr->gso_size;
			break;
		default:
			break;
		}
	}
}

/* Fills the Tx header for the offloads an mbuf asks (5.1.6.2). */
static __rte_always_inline void
vireo_tx_offload(struct vireo_net_hdr *hdr, const struct rte_mbuf *m)
{
	uint64_t csum_l4 = m->ol_flags & RTE_MBUF_F_TX_L4_MASK;

	if (m->ol_flags & RTE_MBUF_F_TX_TCP_SEG)
		csum_l4 |= RTE_MBUF_F_TX_TCP_CKSUM;
	switch (csum_l4) {
	case RTE_MBUF_F_TX_UDP_CKSUM:
		hdr->csum_start = m->l2_len + m->l3_len;
		hdr->csum_offset = offsetof(struct rte_udp_hdr, dgram_cksum);
		hdr->flags = VIREO_NET_HDR_F_NEEDS_CSUM;
		break;
	case RTE_MBUF_F_TX_TCP_CKSUM:
		hdr->csum_start = m->l2_len + m->l3_len;
		hdr->csum_offset = offsetof(struct rte_tcp_hdr, cksum);
		hdr->flags = VIREO_NET_HDR_F_NEEDS_CSUM;
		break;
	default:
		break;
	}
	if (m->ol_flags & RTE_MBUF_F_TX_TCP_SEG) {
		hdr->gso_type = (m->ol_flags & RTE_MBUF_F_TX_IPV6) ?
			VIREO_NET_HDR_GSO_TCPV6 : VIREO_NET_HDR_GSO_TCPV4;
		hdr->gso_size = m->tso_segsz;
		hdr->hdr_len = m->l2_len + m->l3_len + m->l4_len;
	}
}

#endif /* VIREO_RXTX_H */
