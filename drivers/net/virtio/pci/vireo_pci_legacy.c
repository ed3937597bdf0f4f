/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The Vireo Authors
 */

/*
 * The legacy virtio-pci interface (virtio 1.2, 4.1.4.8 and 4.1.5.x
 * "Legacy Interface" notes): one register block at the start of I/O
 * BAR 0, used for a device that has no virtio 1.x capabilities.  A
 * transitional device that has both is driven through its modern
 * interface (vireo_pci_modern.c); this file is the fallback.
 *
 * What differs from virtio 1.x, and where it is handled:
 * - 32 feature bits, no VERSION_1 and no FEATURES_OK step (the ethdev
 *   layer checks vireo_pci_legacy_ops.legacy);
 * - split rings only, in the legacy layout (VIREO_VQ_OPT_LEGACY_LAYOUT),
 *   told to the device as one page frame number; the queue size is the
 *   device's and read-only;
 * - registers and configuration in guest byte order, no configuration
 *   generation (multi-byte fields are read until two reads agree);
 * - the device configuration moves by 4 bytes when MSI-X is enabled.
 *
 * Registers are reached through DPDK's PCI I/O port calls: port I/O
 * after iopl() with uio_pci_generic or igb_uio (root), the device's I/O
 * region with vfio-pci.  Each access has the register's own width.
 */

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include <rte_common.h>
#include <rte_eal.h>
#include <rte_per_lcore.h>
#include <rte_bus_pci.h>
#include <bus_pci_driver.h>

#include "../vireo_log.h"
#include "vireo_pci.h"

/* The legacy register block (4.1.4.8), offsets in I/O BAR 0. */
#define VIREO_LEGACY_DEVICE_FEATURES	0	/* 32, ro */
#define VIREO_LEGACY_DRIVER_FEATURES	4	/* 32, rw */
#define VIREO_LEGACY_QUEUE_PFN		8	/* 32, rw: ring address >> 12 */
#define VIREO_LEGACY_QUEUE_SIZE		12	/* 16, ro */
#define VIREO_LEGACY_QUEUE_SELECT	14	/* 16, rw */
#define VIREO_LEGACY_QUEUE_NOTIFY	16	/* 16, rw */
#define VIREO_LEGACY_STATUS		18	/* 8, rw */
#define VIREO_LEGACY_ISR		19	/* 8, ro, read clears */
/* Present only while MSI-X is enabled; the configuration follows. */
#define VIREO_LEGACY_CONFIG_VECTOR	20	/* 16, rw */
#define VIREO_LEGACY_QUEUE_VECTOR	22	/* 16, rw */
#define VIREO_LEGACY_CONFIG		20
#define VIREO_LEGACY_CONFIG_MSIX	24

/* The queue address register holds a page frame number of this shift. */
#define VIREO_LEGACY_PFN_SHIFT		12
/* MSI-X Message Control, at +2 of the capability: bit 15 enables. */
#define VIREO_PCI_MSIX_CTRL		2
#define VIREO_PCI_MSIX_ENABLE		0x8000
/* Bound on a configuration read racing device changes. */
#define VIREO_LEGACY_CFG_RETRIES	100

static struct vireo_pci *
legacy_of(struct vireo_dev *dev)
{
	return dev->transport;
}

/* ---- register access ---- */

/*
 * With uio on x86 DPDK reaches the ports with in/out instructions, which
 * need the I/O privilege level that iopl() raises, and iopl() is per
 * thread: DPDK raised it only in the thread that mapped the port.  The
 * link watcher (interrupt thread) and the lcores that kick queues raise
 * their own on first use.  0: not tried in this thread, 1: raised,
 * -1: refused.
 */
static RTE_DEFINE_PER_LCORE(int, vireo_legacy_iopl);

static __rte_noinline bool
vireo_legacy_iopl_raise(struct vireo_pci *vp)
{
	if (RTE_PER_LCORE(vireo_legacy_iopl) == 0) {
		RTE_PER_LCORE(vireo_legacy_iopl) =
			rte_eal_iopl_init() == 0 ? 1 : -1;
		if (RTE_PER_LCORE(vireo_legacy_iopl) < 0)
			VIREO_DRV_LOG(ERR, "%s: this thread may not use I/O ports (iopl refused): device registers unreachable from it",
				      vp->pci_dev->device.name);
	}
	return RTE_PER_LCORE(vireo_legacy_iopl) > 0;
}

/* Whether this thread may touch the registers; false: leave them. */
static inline bool
vireo_legacy_io_ok(struct vireo_pci *vp)
{
	return !vp->legacy_pio || likely(RTE_PER_LCORE(vireo_legacy_iopl) > 0) ||
		vireo_legacy_iopl_raise(vp);
}

/* A register this thread cannot reach reads all-ones, as a device that
 * is gone: the callers already treat that as one. */
static void
vireo_legacy_read(struct vireo_pci *vp, void *buf, size_t len, off_t off)
{
	if (vireo_legacy_io_ok(vp))
		rte_pci_ioport_read(&vp->io, buf, len, off);
	else
		memset(buf, 0xff, len);
}

static void
vireo_legacy_write(struct vireo_pci *vp, const void *buf, size_t len,
		   off_t off)
{
	if (vireo_legacy_io_ok(vp))
		rte_pci_ioport_write(&vp->io, buf, len, off);
}

/* One register access of the register's own width: 1, 2 or 4 bytes. */
static uint32_t
vireo_legacy_rd(struct vireo_pci *vp, off_t off, size_t width)
{
	union { uint8_t b; uint16_t w; uint32_t l; } v;

	vireo_legacy_read(vp, &v, width, off);
	return width == 1 ? v.b : width == 2 ? v.w : v.l;
}

static void
vireo_legacy_wr(struct vireo_pci *vp, off_t off, size_t width, uint32_t val)
{
	union { uint8_t b; uint16_t w; uint32_t l; } v;

	if (width == 1)
		v.b = val;
	else if (width == 2)
		v.w = val;
	else
		v.l = val;
	vireo_legacy_write(vp, &v, width, off);
}

uint8_t
vireo_pci_legacy_status(struct vireo_pci *vp)
{
	return vireo_legacy_rd(vp, VIREO_LEGACY_STATUS, 1);
}

void
vireo_pci_legacy_status_write(struct vireo_pci *vp, uint8_t status)
{
	vireo_legacy_wr(vp, VIREO_LEGACY_STATUS, 1, status);
}

uint8_t
vireo_pci_legacy_isr(struct vireo_pci *vp)
{
	return vireo_legacy_rd(vp, VIREO_LEGACY_ISR, 1);
}

/*
 * Whether MSI-X is enabled now, which moves the configuration (and
 * brings the vector registers).  Asked at each use, not remembered:
 * enabling it is up to whoever owns the function's interrupts.
 */
static bool
vireo_legacy_msix_enabled(struct vireo_pci *vp)
{
	uint16_t ctrl;

	if (vp->legacy_msix_pos == 0)
		return false;
	if (rte_pci_read_config(vp->pci_dev, &ctrl, sizeof(ctrl),
				vp->legacy_msix_pos + VIREO_PCI_MSIX_CTRL) !=
	    (int)sizeof(ctrl))
		return false;
	return (rte_le_to_cpu_16(ctrl) & VIREO_PCI_MSIX_ENABLE) != 0;
}

/* Where the MSI-X capability sits in configuration space, or 0. */
static uint8_t
vireo_legacy_find_msix(struct vireo_pci *vp)
{
	uint8_t pos = 0, hdr[2];
	uint16_t status;
	unsigned int n;

	if (rte_pci_read_config(vp->pci_dev, &status, sizeof(status),
				VIREO_PCI_CFG_STATUS) != (int)sizeof(status) ||
	    !(rte_le_to_cpu_16(status) & VIREO_PCI_STATUS_CAP_LIST) ||
	    rte_pci_read_config(vp->pci_dev, &pos, 1,
				VIREO_PCI_CFG_CAP_PTR) != 1)
		return 0;
	/* 48 capabilities fill the 192 bytes after the header. */
	for (n = 0; pos >= 0x40 && n < 48; n++) {
		pos &= ~3;
		if (rte_pci_read_config(vp->pci_dev, hdr, sizeof(hdr), pos) !=
		    (int)sizeof(hdr))
			return 0;
		if (hdr[0] == VIREO_PCI_CAP_ID_MSIX)
			return pos;
		pos = hdr[1];
	}
	return 0;
}

/* ---- transport operations ---- */

static uint64_t
vireo_legacy_get_features(struct vireo_dev *dev)
{
	return vireo_legacy_rd(legacy_of(dev), VIREO_LEGACY_DEVICE_FEATURES, 4);
}

static int
vireo_legacy_set_features(struct vireo_dev *dev, uint64_t features)
{
	/* The device offered 32 bits, so nothing above them was chosen. */
	if (features >> 32)
		return -EINVAL;
	vireo_legacy_wr(legacy_of(dev), VIREO_LEGACY_DRIVER_FEATURES, 4,
			(uint32_t)features);
	return 0;
}

/* One access of the field's width for a 2- or 4-byte field, bytes
 * otherwise (the MAC is six 8-bit fields). */
static void
vireo_legacy_cfg_copy(struct vireo_pci *vp, off_t base, size_t offset,
		      uint8_t *dst, size_t len)
{
	size_t i;

	if (len == 2 && (offset & 1) == 0) {
		uint16_t v = vireo_legacy_rd(vp, base + offset, 2);

		memcpy(dst, &v, 2);
	} else if (len == 4 && (offset & 3) == 0) {
		uint32_t v = vireo_legacy_rd(vp, base + offset, 4);

		memcpy(dst, &v, 4);
	} else {
		for (i = 0; i < len; i++)
			dst[i] = vireo_legacy_rd(vp, base + offset + i, 1);
	}
}

static int
vireo_legacy_read_config(struct vireo_dev *dev, size_t offset, void *buf,
			 size_t len)
{
	struct vireo_pci *vp = legacy_of(dev);
	uint8_t again[sizeof(struct vireo_net_config)];
	unsigned int tries;
	off_t base;

	if (len == 0 || offset + len > sizeof(struct vireo_net_config))
		return -EINVAL;
	base = vireo_legacy_msix_enabled(vp) ? VIREO_LEGACY_CONFIG_MSIX :
		VIREO_LEGACY_CONFIG;
	/* No generation counter here: a field the device may change while
	 * we read it byte by byte is good once two reads agree (4.1.4.8
	 * asks this of the MAC in particular). */
	vireo_legacy_cfg_copy(vp, base, offset, buf, len);
	for (tries = 0; tries < VIREO_LEGACY_CFG_RETRIES; tries++) {
		vireo_legacy_cfg_copy(vp, base, offset, again, len);
		if (memcmp(buf, again, len) == 0)
			break;
		memcpy(buf, again, len);
	}
	if (tries == VIREO_LEGACY_CFG_RETRIES) {
		VIREO_DRV_LOG(ERR, "%s: device configuration at %zu kept changing while read",
			      vp->pci_dev->device.name, offset);
		return -EIO;
	}
	/* A vanished device reads all-ones: no value to trust. */
	if (!vireo_pci_device_ok(vp))
		return -EIO;
	return 0;
}

/* The device has no queue count: a queue it lacks reads size 0. */
static uint16_t
vireo_legacy_queue_size(struct vireo_pci *vp, uint16_t index)
{
	uint16_t size;

	rte_spinlock_lock(&vp->lock);
	vireo_legacy_wr(vp, VIREO_LEGACY_QUEUE_SELECT, 2, index);
	size = vireo_legacy_rd(vp, VIREO_LEGACY_QUEUE_SIZE, 2);
	rte_spinlock_unlock(&vp->lock);
	return size == 0xffff ? 0 : size;
}

static uint16_t
vireo_legacy_queue_max_size(struct vireo_dev *dev, uint16_t index)
{
	return vireo_legacy_queue_size(legacy_of(dev), index);
}

static void
vireo_legacy_notify(struct vireo_queue *q)
{
	struct vireo_pci *vp = legacy_of(q->dev);
	uint16_t index = q->index;

	/* The value is the queue index (4.1.5.2).  The ring core's fence
	 * ordered the ring stores before this call; an I/O port write (or
	 * vfio's pwrite) does not pass them. */
	vireo_legacy_wr(vp, VIREO_LEGACY_QUEUE_NOTIFY, 2, index);
}

static int
vireo_legacy_queue_setup(struct vireo_dev *dev, struct vireo_queue *q)
{
	struct vireo_pci *vp = legacy_of(dev);
	const char *name = vp->pci_dev->device.name;
	uint64_t pfn = q->ring_iova >> VIREO_LEGACY_PFN_SHIFT;
	uint16_t size;
	int ret = 0;

	/* The device takes one page frame number, 32 bits wide, and
	 * finds the areas from it (VIREO_VQ_OPT_LEGACY_LAYOUT). */
	if (q->ring_iova == RTE_BAD_IOVA || q->ring_iova == 0 ||
	    (q->ring_iova & (VIREO_VQ_LEGACY_ALIGN - 1)) != 0 ||
	    pfn > UINT32_MAX) {
		VIREO_DRV_LOG(ERR, "%s: queue %u: ring IO address 0x%" PRIx64 " is not a 32-bit page frame number (a legacy device needs 4 KiB-aligned IOVAs below 16 TiB; hugepages, not --no-huge)",
			      name, q->index, q->ring_iova);
		return -EINVAL;
	}
	rte_spinlock_lock(&vp->lock);
	vireo_legacy_wr(vp, VIREO_LEGACY_QUEUE_SELECT, 2, q->index);
	size = vireo_legacy_rd(vp, VIREO_LEGACY_QUEUE_SIZE, 2);
	if (size == 0 || size == 0xffff || q->size != size) {
		VIREO_DRV_LOG(ERR, "%s: queue %u: size %u, the device's is %u (fixed on a legacy device)",
			      name, q->index, q->size, size);
		ret = -EINVAL;
		goto out;
	}
	if (vireo_legacy_rd(vp, VIREO_LEGACY_QUEUE_PFN, 4) != 0) {
		VIREO_DRV_LOG(ERR, "%s: queue %u already has a ring: device not reset",
			      name, q->index);
		ret = -EBUSY;
		goto out;
	}
	/* We poll: no interrupt vector for the queue. */
	if (vireo_legacy_msix_enabled(vp))
		vireo_legacy_wr(vp, VIREO_LEGACY_QUEUE_VECTOR, 2,
				VIREO_PCI_NO_VECTOR);
	q->notify_addr = NULL;
	q->notify = vireo_legacy_notify;
	q->kick_fd = -1;
	/* A polling driver wants no used-buffer notifications. */
	vireo_vq_disable_cb(&q->vq);
	/* Last: a non-zero frame number makes the queue live. */
	vireo_legacy_wr(vp, VIREO_LEGACY_QUEUE_PFN, 4, (uint32_t)pfn);
	if (vireo_legacy_rd(vp, VIREO_LEGACY_QUEUE_PFN, 4) != (uint32_t)pfn) {
		VIREO_DRV_LOG(ERR, "%s: queue %u: device did not take the ring",
			      name, q->index);
		ret = -EIO;
		goto out;
	}
	VIREO_DRV_LOG(DEBUG, "%s: queue %u: %u descriptors, ring 0x%" PRIx64 " (pfn 0x%" PRIx64 ")",
		      name, q->index, q->size, q->ring_iova, pfn);
out:
	rte_spinlock_unlock(&vp->lock);
	return ret;
}

/*
 * Status, queue enabling, link and close are the modern interface's,
 * over the legacy status register.  Left NULL, as there: write_config
 * (the MAC changes through the control queue), queue_release (nothing
 * kept per queue: the device forgets its rings at reset), the interrupt
 * fds (polling only) and ctrl_handle (the device runs the control
 * queue).
 */
const struct vireo_transport_ops vireo_pci_legacy_ops = {
	.name = "virtio-pci legacy",
	.legacy = true,
	.get_features = vireo_legacy_get_features,
	.set_features = vireo_legacy_set_features,
	.get_status = vireo_pci_get_status,
	.set_status = vireo_pci_set_status,
	.read_config = vireo_legacy_read_config,
	.queue_max_size = vireo_legacy_queue_max_size,
	.queue_setup = vireo_legacy_queue_setup,
	.queue_enable = vireo_pci_queue_enable,
	.link_up = vireo_pci_link_up,
	.close = vireo_pci_close,
};

/*
 * Takes the device through its legacy interface: I/O BAR 0 reachable,
 * the device answering, reset.  On failure vp is left as it was.
 */
int
vireo_pci_legacy_init(struct vireo_pci *vp)
{
	const char *name = vp->pci_dev->device.name;
	uint8_t status;

	if (rte_pci_ioport_map(vp->pci_dev, 0, &vp->io) != 0) {
		VIREO_INIT_LOG(ERR, "%s: no virtio 1.x capabilities and I/O BAR 0 not reachable: a legacy device needs I/O port access (root, for iopl, with uio_pci_generic or igb_uio; or vfio-pci)",
			       name);
		return -EIO;
	}
	vp->legacy = true;
	/* Port instructions (and so iopl) with uio; vfio reads and writes
	 * the device's I/O region through its fd. */
	vp->legacy_pio = vp->pci_dev->kdrv != RTE_PCI_KDRV_VFIO;
	status = vireo_pci_status(vp);
	if (status == 0xff) {
		VIREO_INIT_LOG(ERR, "%s: legacy device not answering (status 0xff)",
			       name);
		goto fail;
	}
	vp->legacy_msix_pos = vireo_legacy_find_msix(vp);
	vp->has_msix = vp->legacy_msix_pos != 0;
	vireo_pci_reset(vp);
	if (vireo_pci_status(vp) != 0)
		goto fail;
	if (vireo_legacy_msix_enabled(vp))
		vireo_legacy_wr(vp, VIREO_LEGACY_CONFIG_VECTOR, 2,
				VIREO_PCI_NO_VECTOR);
	VIREO_INIT_LOG(INFO, "%s: legacy virtio device: features 0x%08x offered, queue 0 of %u descriptors, %s",
		       name, vireo_legacy_rd(vp, VIREO_LEGACY_DEVICE_FEATURES, 4),
		       vireo_legacy_queue_size(vp, 0),
		       vp->has_msix ? "MSI-X present (unused: polling)" :
		       "no MSI-X (polling)");
	return 0;
fail:
	vireo_pci_legacy_fini(vp);
	return -EIO;
}

void
vireo_pci_legacy_fini(struct vireo_pci *vp)
{
	if (!vp->legacy)
		return;
	rte_pci_ioport_unmap(&vp->io);
	vp->legacy = false;
}
