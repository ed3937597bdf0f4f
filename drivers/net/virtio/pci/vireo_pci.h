/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The Vireo Authors
 */

/*
 * The virtio-pci transport (virtio 1.2, section 4.1): the device is a PCI
 * function whose vendor-specific capabilities point into its memory BARs
 * at four structures: common configuration, notification area, ISR
 * status and device configuration.  This "modern" interface is driven
 * wherever the device has it, a transitional device included.  A device
 * without it (legacy-only) is driven through the legacy register block
 * in its I/O BAR 0 (4.1.4.8), vireo_pci_legacy.c.
 */

#ifndef VIREO_PCI_H
#define VIREO_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_spinlock.h>
#include <rte_bus_pci.h>
#include <bus_pci_driver.h>

#include "../vireo_dev.h"

#define VIREO_PCI_VENDOR_ID		0x1af4
/* Transitional virtio-net (0x1000) and modern virtio-net (0x1040 + 1). */
#define VIREO_PCI_DEVICE_TRANSITIONAL	0x1000
#define VIREO_PCI_DEVICE_MODERN		0x1041

/* Standard PCI configuration space (PCI Local Bus 3.0, 6.1, 6.7). */
#define VIREO_PCI_CFG_STATUS		0x06
#define VIREO_PCI_STATUS_CAP_LIST	0x10
#define VIREO_PCI_CFG_CAP_PTR		0x34
#define VIREO_PCI_CAP_ID_VENDOR		0x09
#define VIREO_PCI_CAP_ID_MSIX		0x11

/* virtio vendor capability types (4.1.4). */
#define VIREO_PCI_CAP_COMMON_CFG	1
#define VIREO_PCI_CAP_NOTIFY_CFG	2
#define VIREO_PCI_CAP_ISR_CFG		3
#define VIREO_PCI_CAP_DEVICE_CFG	4
#define VIREO_PCI_CAP_PCI_CFG		5

/* struct virtio_pci_cap, as it sits in PCI configuration space. */
struct vireo_pci_cap {
	uint8_t cap_vndr;		/* VIREO_PCI_CAP_ID_VENDOR */
	uint8_t cap_next;
	uint8_t cap_len;
	uint8_t cfg_type;		/* VIREO_PCI_CAP_* */
	uint8_t bar;
	uint8_t id;
	uint8_t padding[2];
	uint32_t offset;		/* within the BAR, little endian */
	uint32_t length;
};

/* The notify capability adds the queue_notify_off multiplier. */
struct vireo_pci_notify_cap {
	struct vireo_pci_cap cap;
	uint32_t notify_off_multiplier;
};

/* struct virtio_pci_common_cfg (4.1.4.3), in BAR memory. */
struct vireo_pci_common_cfg {
	/* About the whole device. */
	uint32_t device_feature_select;	/* 0x00 rw */
	uint32_t device_feature;	/* 0x04 ro */
	uint32_t driver_feature_select;	/* 0x08 rw */
	uint32_t driver_feature;	/* 0x0c rw */
	uint16_t config_msix_vector;	/* 0x10 rw */
	uint16_t num_queues;		/* 0x12 ro */
	uint8_t device_status;		/* 0x14 rw */
	uint8_t config_generation;	/* 0x15 ro */
	/* About the queue selected by queue_select. */
	uint16_t queue_select;		/* 0x16 rw */
	uint16_t queue_size;		/* 0x18 rw */
	uint16_t queue_msix_vector;	/* 0x1a rw */
	uint16_t queue_enable;		/* 0x1c rw */
	uint16_t queue_notify_off;	/* 0x1e ro */
	uint32_t queue_desc_lo;		/* 0x20 rw */
	uint32_t queue_desc_hi;
	uint32_t queue_driver_lo;	/* 0x28 rw */
	uint32_t queue_driver_hi;
	uint32_t queue_device_lo;	/* 0x30 rw */
	uint32_t queue_device_hi;
};

/* Every field sits at its natural alignment: no packing needed. */
_Static_assert(sizeof(struct vireo_pci_cap) == 16, "virtio_pci_cap layout");
_Static_assert(sizeof(struct vireo_pci_notify_cap) == 20,
	       "virtio_pci_notify_cap layout");
_Static_assert(sizeof(struct vireo_pci_common_cfg) == 0x38,
	       "virtio_pci_common_cfg layout");

#define VIREO_PCI_NO_VECTOR		0xffff
/* ISR status bits (4.1.4.5). */
#define VIREO_PCI_ISR_QUEUE		0x1
#define VIREO_PCI_ISR_CONFIG		0x2

/* Devargs of net_vireo (-a <pci address>,key=value,...). */
struct vireo_pci_devargs {
	bool packed_vq;
	bool mrg_rxbuf;
	bool in_order;
	bool cq;
	bool vectorized;		/* vector data paths allowed */
	uint16_t queue_size;		/* 0: the device's maximum */
	uint32_t speed;
};

#define VIREO_PCI_PARAM_STRING \
	"packed_vq=<0|1> mrg_rxbuf=<0|1> in_order=<0|1> cq=<0|1> " \
	"vectorized=<0|1> queue_size=<1-32768> speed=<1-400000>"

/* The transport state of one port (vireo_dev.transport). */
struct vireo_pci {
	struct rte_pci_device *pci_dev;
	struct rte_eth_dev *eth_dev;
	/* Legacy interface: registers in I/O BAR 0; of the modern
	 * fields below only has_msix is used then. */
	bool legacy;
	struct rte_pci_ioport io;
	bool legacy_pio;		/* io reached by in/out: needs iopl */
	uint8_t legacy_msix_pos;	/* MSI-X capability, 0: none */
	struct vireo_pci_common_cfg *common;	/* mapped BAR memory */
	uint8_t *notify_base;
	uint32_t notify_len;
	uint32_t notify_off_multiplier;
	uint8_t *isr;
	uint8_t *device_cfg;
	uint32_t device_cfg_len;
	uint16_t num_queues;
	bool has_msix;
	/* Serialises common config use (queue_select, feature selects)
	 * between the app's thread and the link watcher. */
	rte_spinlock_t lock;
	/* Link watcher (EAL alarm): what it saw last. */
	bool watching;
	bool closing;
	bool gone;			/* reads came back all-ones */
	bool needs_reset_seen;		/* NEEDS_RESET logged */
	bool lost_seen;			/* reset behind our back logged */
	bool link_seen;
};

/* vireo_pci_modern.c; status, reset and device checks serve both
 * interfaces, as do the operations below vireo_pci_ops. */
extern const struct vireo_transport_ops vireo_pci_ops;
int vireo_pci_modern_init(struct vireo_pci *vp);
void vireo_pci_reset(struct vireo_pci *vp);
uint8_t vireo_pci_status(struct vireo_pci *vp);
uint8_t vireo_pci_isr(struct vireo_pci *vp);
bool vireo_pci_device_ok(struct vireo_pci *vp);
uint8_t vireo_pci_get_status(struct vireo_dev *dev);
int vireo_pci_set_status(struct vireo_dev *dev, uint8_t status);
int vireo_pci_queue_enable(struct vireo_dev *dev, uint16_t index, bool on);
bool vireo_pci_link_up(struct vireo_dev *dev);
void vireo_pci_close(struct vireo_dev *dev);

/* vireo_pci_legacy.c */
extern const struct vireo_transport_ops vireo_pci_legacy_ops;
int vireo_pci_legacy_init(struct vireo_pci *vp);
void vireo_pci_legacy_fini(struct vireo_pci *vp);
uint8_t vireo_pci_legacy_status(struct vireo_pci *vp);
void vireo_pci_legacy_status_write(struct vireo_pci *vp, uint8_t status);
uint8_t vireo_pci_legacy_isr(struct vireo_pci *vp);

/* vireo_pci_ethdev.c */
void vireo_pci_transport_free(struct vireo_pci *vp);

#endif /* VIREO_PCI_H */
