/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The Vireo Authors
 */

/*
 * Ring layouts as the virtio 1.1/1.2 specification lays them out in
 * memory shared with the device (section 2.7 split, 2.8 packed).
 * All fields are little endian; the library supports little-endian
 * hosts only, checked below, so no byte swapping is done.
 */

#ifndef VIREO_VRING_DEFS_H
#define VIREO_VRING_DEFS_H

#include <stdint.h>

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "lib/vring assumes a little-endian host (virtio 1.x rings are LE)"
#endif

/* Feature bit numbers the ring cares about (spec 6, reserved bits). */
#define VIREO_F_INDIRECT_DESC	28
#define VIREO_F_EVENT_IDX	29
#define VIREO_F_VERSION_1	32
#define VIREO_F_RING_PACKED	34
#define VIREO_F_IN_ORDER	35

/* Descriptor flags, common to both layouts. */
#define VIRTQ_DESC_F_NEXT	1	/* chain continues */
#define VIRTQ_DESC_F_WRITE	2	/* device writes this buffer */
#define VIRTQ_DESC_F_INDIRECT	4	/* buffer is a table of descriptors */

/* Packed descriptor ownership bits. */
#define VIRTQ_DESC_F_AVAIL	(1u << 7)
#define VIRTQ_DESC_F_USED	(1u << 15)

/* Split ring flags words. */
#define VIRTQ_AVAIL_F_NO_INTERRUPT	1	/* driver: do not interrupt me */
#define VIRTQ_USED_F_NO_NOTIFY		1	/* device: do not kick me */

/* Packed event suppression modes (flags field of the area). */
#define VIRTQ_EVENT_F_ENABLE	0
#define VIRTQ_EVENT_F_DISABLE	1
#define VIRTQ_EVENT_F_DESC	2

/* Bit 15 of an event offset and of a saved packed ring base: wrap. */
#define VIRTQ_EVENT_WRAP_SHIFT	15
#define VIRTQ_EVENT_OFF_MASK	0x7fffu

/* Largest queue size either layout can express. */
#define VIREO_VQ_MAX_SIZE	32768

/* Split descriptor table entry, 16 bytes, table aligned on 16. */
struct vireo_split_desc {
	uint64_t addr;		/* bus address of the buffer */
	uint32_t len;		/* its length in bytes */
	uint16_t flags;		/* VIRTQ_DESC_F_* */
	uint16_t next;		/* next descriptor when F_NEXT */
};

/* Split available ring, aligned on 2: ring[size] then used_event. */
struct vireo_split_avail {
	uint16_t flags;		/* VIRTQ_AVAIL_F_NO_INTERRUPT */
	uint16_t idx;		/* free-running count of heads offered */
	uint16_t ring[];	/* heads; used_event follows ring[size] */
};

/* One completion in the split used ring. */
struct vireo_split_used_elem {
	uint32_t id;		/* head descriptor of the completed chain */
	uint32_t len;		/* bytes the device wrote */
};

/* Split used ring, aligned on 4: ring[size] then avail_event. */
struct vireo_split_used {
	uint16_t flags;		/* VIRTQ_USED_F_NO_NOTIFY */
	uint16_t idx;		/* free-running count of completions */
	struct vireo_split_used_elem ring[];
};

/* Packed ring descriptor, 16 bytes, ring aligned on 16. */
struct vireo_packed_desc {
	uint64_t addr;		/* bus address of the buffer */
	uint32_t len;		/* length; on used: bytes written */
	uint16_t id;		/* buffer id chosen by the driver */
	uint16_t flags;		/* F_NEXT/WRITE/INDIRECT + AVAIL/USED */
};

/* Packed event suppression area, 4 bytes, aligned on 4. */
struct vireo_packed_event {
	uint16_t off_wrap;	/* descriptor offset (0-14) + wrap (15) */
	uint16_t flags;		/* VIRTQ_EVENT_F_* */
};

_Static_assert(sizeof(struct vireo_split_desc) == 16, "split desc size");
_Static_assert(sizeof(struct vireo_packed_desc) == 16, "packed desc size");
_Static_assert(sizeof(struct vireo_split_used_elem) == 8, "used elem size");
_Static_assert(sizeof(struct vireo_packed_event) == 4, "event area size");

#endif /* VIREO_VRING_DEFS_H */
