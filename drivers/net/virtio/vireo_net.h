/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The Vireo Authors
 */

/*
 * The virtio-net device as the specification defines it (virtio 1.2,
 * section 5.1): feature bits, the per-packet header, the configuration
 * layout and the control queue commands.  Ring layouts live in lib/vring.
 */

#ifndef VIREO_NET_H
#define VIREO_NET_H

#include <stddef.h>
#include <stdint.h>

#include <rte_common.h>

/* Device feature bits (5.1.3). */
#define VIREO_NET_F_CSUM		0
#define VIREO_NET_F_GUEST_CSUM		1
#define VIREO_NET_F_CTRL_GUEST_OFFLOADS	2
#define VIREO_NET_F_MTU			3
#define VIREO_NET_F_MAC			5
#define VIREO_NET_F_GUEST_TSO4		7
#define VIREO_NET_F_GUEST_TSO6		8
#define VIREO_NET_F_GUEST_ECN		9
#define VIREO_NET_F_GUEST_UFO		10
#define VIREO_NET_F_HOST_TSO4		11
#define VIREO_NET_F_HOST_TSO6		12
#define VIREO_NET_F_HOST_ECN		13
#define VIREO_NET_F_HOST_UFO		14
#define VIREO_NET_F_MRG_RXBUF		15
#define VIREO_NET_F_STATUS		16
#define VIREO_NET_F_CTRL_VQ		17
#define VIREO_NET_F_CTRL_RX		18
#define VIREO_NET_F_CTRL_VLAN		19
#define VIREO_NET_F_GUEST_ANNOUNCE	21
#define VIREO_NET_F_MQ			22
#define VIREO_NET_F_CTRL_MAC_ADDR	23
#define VIREO_NET_F_SPEED_DUPLEX	63

/* Transport feature bits (6). */
#define VIREO_F_ANY_LAYOUT		27
/* VIREO_F_INDIRECT_DESC, _EVENT_IDX, _VERSION_1, _RING_PACKED,
 * _IN_ORDER come from lib/vring's vring_defs.h. */
#define VIREO_F_ACCESS_PLATFORM		33
#define VIREO_F_ORDER_PLATFORM		36
#define VIREO_F_NOTIFICATION_DATA	38

#define VIREO_BIT(b)			(UINT64_C(1) << (b))

/* Device status bits (2.1). */
#define VIREO_STATUS_ACKNOWLEDGE	1
#define VIREO_STATUS_DRIVER		2
#define VIREO_STATUS_DRIVER_OK		4
#define VIREO_STATUS_FEATURES_OK	8
#define VIREO_STATUS_NEEDS_RESET	64
#define VIREO_STATUS_FAILED		128

/*
 * The header before every packet (5.1.6).  With VERSION_1 it always has
 * num_buffers, so its size is 12 whether or not MRG_RXBUF is on; a
 * legacy device has num_buffers only with MRG_RXBUF (10 bytes without).
 */
struct vireo_net_hdr {
	uint8_t flags;
#define VIREO_NET_HDR_F_NEEDS_CSUM	1
#define VIREO_NET_HDR_F_DATA_VALID	2
	uint8_t gso_type;
#define VIREO_NET_HDR_GSO_NONE		0
#define VIREO_NET_HDR_GSO_TCPV4		1
#define VIREO_NET_HDR_GSO_UDP		3
#define VIREO_NET_HDR_GSO_TCPV6		4
#define VIREO_NET_HDR_GSO_ECN		0x80
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers;
} __rte_packed;

_Static_assert(sizeof(struct vireo_net_hdr) == 12, "virtio-net header size");
/* The header of a legacy device without MRG_RXBUF: no num_buffers. */
#define VIREO_NET_HDR_LEGACY_SIZE	offsetof(struct vireo_net_hdr, num_buffers)

/* Device configuration layout (5.1.4). */
struct vireo_net_config {
	uint8_t mac[6];
	uint16_t status;
#define VIREO_NET_S_LINK_UP		1
#define VIREO_NET_S_ANNOUNCE		2
	uint16_t max_virtqueue_pairs;
	uint16_t mtu;
	uint32_t speed;
	uint8_t duplex;
} __rte_packed;

/* Control queue (5.1.6.5): class, command, data, then an ack byte. */
struct vireo_net_ctrl_hdr {
	uint8_t class;
	uint8_t cmd;
} __rte_packed;

#define VIREO_NET_OK			0
#define VIREO_NET_ERR			1

#define VIREO_NET_CTRL_RX		0
#define VIREO_NET_CTRL_RX_PROMISC	0
#define VIREO_NET_CTRL_RX_ALLMULTI	1

#define VIREO_NET_CTRL_MAC		1
#define VIREO_NET_CTRL_MAC_TABLE_SET	0
#define VIREO_NET_CTRL_MAC_ADDR_SET	1

#define VIREO_NET_CTRL_VLAN		2
#define VIREO_NET_CTRL_VLAN_ADD		0
#define VIREO_NET_CTRL_VLAN_DEL		1

#define VIREO_NET_CTRL_ANNOUNCE		3
#define VIREO_NET_CTRL_ANNOUNCE_ACK	0

#define VIREO_NET_CTRL_MQ		4
#define VIREO_NET_CTRL_MQ_VQ_PAIRS_SET	0
#define VIREO_NET_CTRL_MQ_VQ_PAIRS_MIN	1
#define VIREO_NET_CTRL_MQ_VQ_PAIRS_MAX	0x8000

#endif /* VIREO_NET_H */
