/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The Vireo Authors
 */

/*
 * The virtio 1.x PCI interface (spec 4.1.4): find the vendor
 * capabilities in PCI configuration space, locate the structures they
 * point at in the BARs DPDK mapped, and implement the transport
 * operations over them.
 *
 * Every register access is a single MMIO load or store of the field's
 * own width (4.1.3.1: no wider or narrower accesses); 64-bit queue
 * addresses are written as two 32-bit halves, which the spec allows.
 */

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_io.h>
#include <rte_bus_pci.h>
#include <bus_pci_driver.h>

#include "../vireo_log.h"
#include "vireo_pci.h"

/* How long a reset may take before we call the device dead (4.1.4.3.2). */
#define VIREO_PCI_RESET_TIMEOUT_MS	3000
/* Bound on a config read racing device changes (config_generation). */
#define VIREO_PCI_CFG_RETRIES		100
/* A PCI capability list cannot be longer than this (256-byte space). */
#define VIREO_PCI_MAX_CAPS		48

static struct vireo_pci *
pci_of(struct vireo_dev *dev)
{
	return dev->transport;
}

/* ---- capability walk ---- */

static const char *
vireo_pci_cap_name(uint8_t type)
{
	switch (type) {
	case VIREO_PCI_CAP_COMMON_CFG: return "common";
	case VIREO_PCI_CAP_NOTIFY_CFG: return "notify";
	case VIREO_PCI_CAP_ISR_CFG: return "isr";
	case VIREO_PCI_CAP_DEVICE_CFG: return "device";
	case VIREO_PCI_CAP_PCI_CFG: return "pci-cfg";
	default: return "other";
	}
}

/*
 * The memory a capability points at, or NULL if DPDK did not map that
 * BAR (an I/O BAR, an empty one) or the range does not fit in it.
 */
static uint8_t *
vireo_pci_cap_addr(struct vireo_pci *vp, const struct vireo_pci_cap *cap)
{
	const struct rte_mem_resource *res;
	uint64_t end = (uint64_t)cap->offset + cap->length;

	/* 0..5 are BARs; other values are reserved (4.1.4). */
	if (cap->bar >= 6)
		return NULL;
	res = &vp->pci_dev->mem_resource[cap->bar];
	if (res->addr == NULL || res->len == 0)
		return NULL;
	if (end > res->len) {
		VIREO_INIT_LOG(ERR, "%s: %s capability: offset %u + length %u beyond BAR%u (%" PRIu64 " bytes)",
			       vp->pci_dev->device.name,
			       vireo_pci_cap_name(cap->cfg_type), cap->offset,
			       cap->length, cap->bar, res->len);
		return NULL;
	}
	return (uint8_t *)res->addr + cap->offset;
}

static int
vireo_pci_read_cfg(struct vireo_pci *vp, void *buf, size_t len, off_t off)
{
	int ret = rte_pci_read_config(vp->pci_dev, buf, len, off);

	return ret == (int)len ? 0 : -EIO;
}

/*
 * Walks the capability list; records the first usable capability of
 * each virtio type (4.1.4.1: the driver SHOULD use the first it can).
 */
static int
vireo_pci_walk_caps(struct vireo_pci *vp)
{
	const char *name = vp->pci_dev->device.name;
	uint16_t status;
	uint8_t pos, hdr[2];
	unsigned int n;

	if (vireo_pci_read_cfg(vp, &status, sizeof(status),
			       VIREO_PCI_CFG_STATUS) != 0) {
		VIREO_INIT_LOG(ERR, "%s: cannot read PCI configuration space",
			       name);
		return -EIO;
	}
	if (!(status & VIREO_PCI_STATUS_CAP_LIST))
		return 0;
	if (vireo_pci_read_cfg(vp, &pos, 1, VIREO_PCI_CFG_CAP_PTR) != 0)
		return -EIO;

	for (n = 0; pos >= 0x40 && n < VIREO_PCI_MAX_CAPS; n++) {
		struct vireo_pci_notify_cap ncap;
		struct vireo_pci_cap *cap = &ncap.cap;
		uint8_t *addr;

		pos &= ~3;
		if (vireo_pci_read_cfg(vp, hdr, sizeof(hdr), pos) != 0)
			return -EIO;
		if (hdr[0] == VIREO_PCI_CAP_ID_MSIX) {
			vp->has_msix = true;
			goto next;
		}
		if (hdr[0] != VIREO_PCI_CAP_ID_VENDOR)
			goto next;
		memset(&ncap, 0, sizeof(ncap));
		if (vireo_pci_read_cfg(vp, cap, sizeof(*cap), pos) != 0)
			return -EIO;
		if (cap->cap_len < sizeof(*cap))
			goto next;
		VIREO_INIT_LOG(DEBUG, "%s: virtio capability %s at 0x%x: BAR%u offset 0x%x length %u",
			       name, vireo_pci_cap_name(cap->cfg_type), pos,
			       cap->bar, cap->offset, cap->length);
		switch (cap->cfg_type) {
		case VIREO_PCI_CAP_COMMON_CFG:
			if (vp->common != NULL ||
			    cap->length < sizeof(struct vireo_pci_common_cfg))
				break;
			vp->common = (void *)vireo_pci_cap_addr(vp, cap);
			break;
		case VIREO_PCI_CAP_NOTIFY_CFG:
			if (vp->notify_base != NULL || cap->length < 2 ||
			    cap->cap_len < sizeof(ncap))
				break;
			if (vireo_pci_read_cfg(vp, &ncap, sizeof(ncap), pos) != 0)
				return -EIO;
			addr = vireo_pci_cap_addr(vp, cap);
			if (addr == NULL)
				break;
			vp->notify_base = addr;
			vp->notify_len = cap->length;
			vp->notify_off_multiplier = ncap.notify_off_multiplier;
			break;
		case VIREO_PCI_CAP_ISR_CFG:
			if (vp->isr == NULL && cap->length >= 1)
				vp->isr = vireo_pci_cap_addr(vp, cap);
			break;
		case VIREO_PCI_CAP_DEVICE_CFG:
			if (vp->device_cfg != NULL)
				break;
			addr = vireo_pci_cap_addr(vp, cap);
			if (addr != NULL) {
				vp->device_cfg = addr;
				vp->device_cfg_len = cap->length;
			}
			break;
		default:
			break;
		}
next:
		pos = hdr[1];
	}
	return 0;
}

/* ---- register access ---- */

static inline uint8_t
vireo_pci_rd8(const void *addr)
{
	return rte_read8(addr);
}

static inline uint16_t
vireo_pci_rd16(const void *addr)
{
	return rte_le_to_cpu_16(rte_read16(addr));
}

static inline uint32_t
vireo_pci_rd32(const void *addr)
{
	return rte_le_to_cpu_32(rte_read32(addr));
}

static inline void
vireo_pci_wr8(uint8_t v, void *addr)
{
	rte_write8(v, addr);
}

static inline void
vireo_pci_wr16(uint16_t v, void *addr)
{
	rte_write16(rte_cpu_to_le_16(v), addr);
}

static inline void
vireo_pci_wr32(uint32_t v, void *addr)
{
	rte_write32(rte_cpu_to_le_32(v), addr);
}

static void
vireo_pci_wr64(uint64_t v, uint32_t *lo, uint32_t *hi)
{
	vireo_pci_wr32((uint32_t)v, lo);
	vireo_pci_wr32((uint32_t)(v >> 32), hi);
}

/* The status and ISR registers are all the code below needs of either
 * interface; the legacy one keeps them in its I/O BAR. */
uint8_t
vireo_pci_status(struct vireo_pci *vp)
{
	if (vp->legacy)
		return vireo_pci_legacy_status(vp);
	return vireo_pci_rd8(&vp->common->device_status);
}

static void
vireo_pci_status_write(struct vireo_pci *vp, uint8_t status)
{
	if (vp->legacy)
		vireo_pci_legacy_status_write(vp, status);
	else
		vireo_pci_wr8(status, &vp->common->device_status);
}

/* Reading the ISR acknowledges it (4.1.4.5); 0 where there is none. */
uint8_t
vireo_pci_isr(struct vireo_pci *vp)
{
	if (vp->legacy)
		return vireo_pci_legacy_isr(vp);
	return vp->isr != NULL ? vireo_pci_rd8(vp->isr) : 0;
}

static bool
vireo_pci_started(const struct vireo_pci *vp)
{
	const struct vireo_dev *dev;

	if (vp->eth_dev == NULL || vp->eth_dev->data == NULL)
		return false;
	dev = vp->eth_dev->data->dev_private;
	return dev != NULL && dev->started;
}

/*
 * Whether the device can be used: not vanished, not asking for a reset
 * (NEEDS_RESET), and, while the port runs, not reset behind our back.
 * Each condition is logged once when first seen; the ethdev layer then
 * reports the link down.  A reset (port stop) clears the last two.
 */
bool
vireo_pci_device_ok(struct vireo_pci *vp)
{
	uint8_t status = vireo_pci_status(vp);
	uint16_t vendor = 0xffff;

	/* A function that is gone reads all-ones on real hardware; one
	 * unplugged under the guest's feet may read zeroes (QEMU), so ask
	 * PCI configuration space (the kernel's copy) as well. */
	if (status != 0xff) {
		if (rte_pci_read_config(vp->pci_dev, &vendor, sizeof(vendor),
					0) == (int)sizeof(vendor))
			vendor = rte_le_to_cpu_16(vendor);
		else
			vendor = 0xffff;
	}
	if (status == 0xff || vendor != VIREO_PCI_VENDOR_ID) {
		if (!vp->gone)
			VIREO_DRV_LOG(ERR, "%s: device not answering (status 0x%02x, vendor id 0x%04x): link down",
				      vp->pci_dev->device.name, status, vendor);
		vp->gone = true;
		return false;
	}
	if (vp->gone)
		VIREO_DRV_LOG(NOTICE, "%s: device answers again",
			      vp->pci_dev->device.name);
	vp->gone = false;
	if (status & VIREO_STATUS_NEEDS_RESET) {
		if (!vp->needs_reset_seen)
			VIREO_DRV_LOG(ERR, "%s: device set NEEDS_RESET (status 0x%02x): link down; stop and start the port to reset it",
				      vp->pci_dev->device.name, status);
		vp->needs_reset_seen = true;
		return false;
	}
	vp->needs_reset_seen = false;
	/* Started, yet the device forgot DRIVER_OK: it was reset behind
	 * our back (by itself or another agent) and serves no ring. */
	if (vireo_pci_started(vp) && !(status & VIREO_STATUS_DRIVER_OK)) {
		if (!vp->lost_seen)
			VIREO_DRV_LOG(ERR, "%s: device was reset under the running port (status 0x%02x): link down; stop and start the port",
				      vp->pci_dev->device.name, status);
		vp->lost_seen = true;
		return false;
	}
	vp->lost_seen = false;
	return true;
}

/* 4.1.4.3.2: write 0, then wait for the device to read back 0. */
void
vireo_pci_reset(struct vireo_pci *vp)
{
	uint64_t deadline = rte_get_timer_cycles() +
		rte_get_timer_hz() * VIREO_PCI_RESET_TIMEOUT_MS / 1000;
	uint8_t status;

	vireo_pci_status_write(vp, 0);
	while ((status = vireo_pci_status(vp)) != 0) {
		if (status == 0xff || rte_get_timer_cycles() > deadline) {
			VIREO_DRV_LOG(ERR, "%s: device did not complete reset (status 0x%02x)",
				      vp->pci_dev->device.name, status);
			return;
		}
		rte_delay_us_sleep(100);
	}
	vp->needs_reset_seen = false;
}

/* ---- transport operations ---- */

static uint64_t
vireo_pci_get_features(struct vireo_dev *dev)
{
	struct vireo_pci *vp = pci_of(dev);
	struct vireo_pci_common_cfg *c = vp->common;
	uint32_t lo, hi;

	rte_spinlock_lock(&vp->lock);
	vireo_pci_wr32(0, &c->device_feature_select);
	lo = vireo_pci_rd32(&c->device_feature);
	vireo_pci_wr32(1, &c->device_feature_select);
	hi = vireo_pci_rd32(&c->device_feature);
	rte_spinlock_unlock(&vp->lock);
	return (uint64_t)hi << 32 | lo;
}

static int
vireo_pci_set_features(struct vireo_dev *dev, uint64_t features)
{
	struct vireo_pci *vp = pci_of(dev);
	struct vireo_pci_common_cfg *c = vp->common;

	rte_spinlock_lock(&vp->lock);
	vireo_pci_wr32(0, &c->driver_feature_select);
	vireo_pci_wr32((uint32_t)features, &c->driver_feature);
	vireo_pci_wr32(1, &c->driver_feature_select);
	vireo_pci_wr32((uint32_t)(features >> 32), &c->driver_feature);
	rte_spinlock_unlock(&vp->lock);
	return 0;
}

uint8_t
vireo_pci_get_status(struct vireo_dev *dev)
{
	return vireo_pci_status(pci_of(dev));
}

int
vireo_pci_set_status(struct vireo_dev *dev, uint8_t status)
{
	struct vireo_pci *vp = pci_of(dev);
	uint8_t cur;

	if (status == 0) {
		vireo_pci_reset(vp);
		return vireo_pci_status(vp) == 0 ? 0 : -EIO;
	}
	cur = vireo_pci_status(vp);
	if (cur == 0xff)
		return -EIO;
	/* Status bits accumulate (3.1.1): add, never clear. */
	vireo_pci_status_write(vp, cur | status);
	return 0;
}

/* One access of the field's own width where the caller asked for one
 * field; byte by byte otherwise (the MAC is six 8-bit fields). */
static void
vireo_pci_cfg_copy(const uint8_t *src, uint8_t *dst, size_t offset,
		   size_t len)
{
	size_t i;

	if (len == 2 && (offset & 1) == 0) {
		uint16_t v = vireo_pci_rd16(src);

		memcpy(dst, &v, 2);
	} else if (len == 4 && (offset & 3) == 0) {
		uint32_t v = vireo_pci_rd32(src);

		memcpy(dst, &v, 4);
	} else {
		for (i = 0; i < len; i++)
			dst[i] = vireo_pci_rd8(src + i);
	}
}

static int
vireo_pci_read_config(struct vireo_dev *dev, size_t offset, void *buf,
		      size_t len)
{
	struct vireo_pci *vp = pci_of(dev);
	struct vireo_pci_common_cfg *c = vp->common;
	uint8_t gen, gen2;
	unsigned int tries;

	if (vp->device_cfg == NULL || offset + len > vp->device_cfg_len)
		return -EINVAL;
	/* 4.1.4.3.1: a multi-access read is consistent only if the
	 * generation did not move across it. */
	for (tries = 0; tries < VIREO_PCI_CFG_RETRIES; tries++) {
		gen = vireo_pci_rd8(&c->config_generation);
		vireo_pci_cfg_copy(vp->device_cfg + offset, buf, offset, len);
		gen2 = vireo_pci_rd8(&c->config_generation);
		if (gen == gen2)
			break;
	}
	if (tries == VIREO_PCI_CFG_RETRIES) {
		VIREO_DRV_LOG(ERR, "%s: device configuration at %zu kept changing while read",
			      vp->pci_dev->device.name, offset);
		return -EIO;
	}
	/* A vanished device reads all-ones: no value to trust. */
	if (!vireo_pci_device_ok(vp))
		return -EIO;
	return 0;
}

/*
 * How many queues the device has now: read each time, since a device may
 * add queues once features are set (QEMU's virtio-net creates the queue
 * pairs beyond the first, and moves the control queue after them, when
 * MQ is negotiated).
 */
static uint16_t
vireo_pci_num_queues(struct vireo_pci *vp)
{
	vp->num_queues = vireo_pci_rd16(&vp->common->num_queues);
	return vp->num_queues;
}

static uint16_t
vireo_pci_queue_max_size(struct vireo_dev *dev, uint16_t index)
{
	struct vireo_pci *vp = pci_of(dev);
	struct vireo_pci_common_cfg *c = vp->common;
	uint16_t size;

	if (index >= vireo_pci_num_queues(vp))
		return 0;
	rte_spinlock_lock(&vp->lock);
	vireo_pci_wr16(index, &c->queue_select);
	size = vireo_pci_rd16(&c->queue_size);
	rte_spinlock_unlock(&vp->lock);
	return size == 0xffff ? 0 : size;
}

static void
vireo_pci_notify(struct vireo_queue *q)
{
	/* Without NOTIFICATION_DATA the value is the queue index
	 * (4.1.5.2).  The ring core's fence ordered the ring stores
	 * before this; rte_write16 keeps the compiler from sinking them. */
	rte_write16(rte_cpu_to_le_16(q->index), q->notify_addr);
}

static int
vireo_pci_queue_setup(struct vireo_dev *dev, struct vireo_queue *q)
{
	struct vireo_pci *vp = pci_of(dev);
	struct vireo_pci_common_cfg *c = vp->common;
	const char *name = vp->pci_dev->device.name;
	uint64_t desc, driver, device, off;
	uint16_t max, notify_off;
	int ret = 0;

	if (q->index >= vireo_pci_num_queues(vp)) {
		VIREO_DRV_LOG(ERR, "%s: queue %u: the device has %u queues",
			      name, q->index, vp->num_queues);
		return -EINVAL;
	}
	if (q->ring_iova == RTE_BAD_IOVA || q->ring_iova == 0) {
		VIREO_DRV_LOG(ERR, "%s: queue %u: ring memory has no IO address; a PCI device needs IOVAs (hugepages with uio, or vfio), not --no-huge",
			      name, q->index);
		return -EINVAL;
	}
	vireo_vq_addresses(&q->vq, &desc, &driver, &device);

	rte_spinlock_lock(&vp->lock);
	vireo_pci_wr16(q->index, &c->queue_select);
	max = vireo_pci_rd16(&c->queue_size);
	if (max == 0 || q->size > max) {
		VIREO_DRV_LOG(ERR, "%s: queue %u: size %u, the device takes at most %u",
			      name, q->index, q->size, max);
		ret = -EINVAL;
		goto out;
	}
	if (vireo_pci_rd16(&c->queue_enable) != 0) {
		VIREO_DRV_LOG(ERR, "%s: queue %u already enabled: device not reset",
			      name, q->index);
		ret = -EBUSY;
		goto out;
	}
	notify_off = vireo_pci_rd16(&c->queue_notify_off);
	off = (uint64_t)notify_off * vp->notify_off_multiplier;
	if (off + sizeof(uint16_t) > vp->notify_len) {
		VIREO_DRV_LOG(ERR, "%s: queue %u: notify offset %u x %u beyond the notify area (%u bytes)",
			      name, q->index, notify_off,
			      vp->notify_off_multiplier, vp->notify_len);
		ret = -EINVAL;
		goto out;
	}
	vireo_pci_wr16(q->size, &c->queue_size);
	vireo_pci_wr64(desc, &c->queue_desc_lo, &c->queue_desc_hi);
	vireo_pci_wr64(driver, &c->queue_driver_lo, &c->queue_driver_hi);
	vireo_pci_wr64(device, &c->queue_device_lo, &c->queue_device_hi);
	/* We poll: no interrupt vector for the queue. */
	vireo_pci_wr16(VIREO_PCI_NO_VECTOR, &c->queue_msix_vector);

	q->notify_addr = (volatile uint16_t *)(vp->notify_base + off);
	q->notify = vireo_pci_notify;
	q->kick_fd = -1;
	/* A polling driver wants no used-buffer notifications: the
	 * device then does not even raise the (masked) interrupt. */
	vireo_vq_disable_cb(&q->vq);

	/* Everything above is in place before the device may use it. */
	vireo_pci_wr16(1, &c->queue_enable);
	if (vireo_pci_rd16(&c->queue_enable) != 1) {
		VIREO_DRV_LOG(ERR, "%s: queue %u: device did not enable it",
			      name, q->index);
		ret = -EIO;
		goto out;
	}
	VIREO_DRV_LOG(DEBUG, "%s: queue %u: %u descriptors, desc 0x%" PRIx64 " driver 0x%" PRIx64 " device 0x%" PRIx64 ", notify +0x%" PRIx64,
		      name, q->index, q->size, desc, driver, device, off);
out:
	rte_spinlock_unlock(&vp->lock);
	return ret;
}

static void
vireo_pci_queue_release(struct vireo_dev *dev __rte_unused,
			struct vireo_queue *q)
{
	/* The device forgets the queue at reset; only our view goes. */
	q->notify_addr = NULL;
}

int
vireo_pci_queue_enable(struct vireo_dev *dev __rte_unused,
		       uint16_t index __rte_unused, bool on)
{
	/* queue_setup enables every queue before DRIVER_OK; a virtio 1.x
	 * driver cannot disable one without VIRTIO_F_RING_RESET. */
	return on ? 0 : -ENOTSUP;
}

bool
vireo_pci_link_up(struct vireo_dev *dev)
{
	struct vireo_pci *vp = pci_of(dev);

	return vp != NULL && vireo_pci_device_ok(vp);
}

void
vireo_pci_close(struct vireo_dev *dev)
{
	struct vireo_pci *vp = pci_of(dev);

	if (vp == NULL)
		return;
	vireo_pci_transport_free(vp);
}

const struct vireo_transport_ops vireo_pci_ops = {
	.name = "virtio-pci",
	.get_features = vireo_pci_get_features,
	.set_features = vireo_pci_set_features,
	.get_status = vireo_pci_get_status,
	.set_status = vireo_pci_set_status,
	.read_config = vireo_pci_read_config,
	/* A virtio 1.x device's configuration is read-only to the driver:
	 * the MAC changes through the control queue. */
	.write_config = NULL,
	.queue_max_size = vireo_pci_queue_max_size,
	.queue_setup = vireo_pci_queue_setup,
	.queue_release = vireo_pci_queue_release,
	.queue_enable = vireo_pci_queue_enable,
	/* Polling only: no Rx interrupts, link watched by an alarm. */
	.queue_intr_fd = NULL,
	.config_intr_fd = NULL,
	.link_up = vireo_pci_link_up,
	.ctrl_handle = NULL,
	.close = vireo_pci_close,
};

/*
 * Finds the modern interface of a mapped device.  -ENOTSUP: the device
 * has none (a legacy-only device); other errors: a broken one.
 */
int
vireo_pci_modern_init(struct vireo_pci *vp)
{
	const char *name = vp->pci_dev->device.name;
	int ret;

	ret = vireo_pci_walk_caps(vp);
	if (ret != 0)
		return ret;
	if (vp->common == NULL && vp->notify_base == NULL &&
	    vp->device_cfg == NULL)
		return -ENOTSUP;
	if (vp->common == NULL || vp->notify_base == NULL) {
		VIREO_INIT_LOG(ERR, "%s: virtio capabilities incomplete (common %s, notify %s): cannot drive the device",
			       name, vp->common ? "found" : "missing",
			       vp->notify_base ? "found" : "missing");
		return -EINVAL;
	}
	if (vp->device_cfg == NULL)
		VIREO_INIT_LOG(WARNING, "%s: no device configuration capability: MAC, link status and MTU unknown",
			       name);
	if (vp->isr == NULL)
		VIREO_INIT_LOG(WARNING, "%s: no ISR capability", name);
	if (vireo_pci_status(vp) == 0xff) {
		VIREO_INIT_LOG(ERR, "%s: device not answering (status 0xff)",
			       name);
		return -EIO;
	}
	vireo_pci_reset(vp);
	if (vireo_pci_status(vp) != 0)
		return -EIO;
	vireo_pci_wr16(VIREO_PCI_NO_VECTOR, &vp->common->config_msix_vector);
	VIREO_INIT_LOG(INFO, "%s: virtio 1.x device: %u queues before feature negotiation, notify multiplier %u, %s",
		       name, vireo_pci_num_queues(vp), vp->notify_off_multiplier,
		       vp->has_msix ? "MSI-X present (unused: polling)" :
		       "no MSI-X (polling)");
	return 0;
}
