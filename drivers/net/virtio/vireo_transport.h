/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The Vireo Authors
 */

/*
 * What the ethdev layer needs from a transport (virtio-user today,
 * virtio-pci next), and nothing more.  The sequence follows the virtio
 * status machine (spec 3.1): reset, ACKNOWLEDGE, DRIVER, features,
 * FEATURES_OK, queue setup, DRIVER_OK.  A transport that is not a
 * device (virtio-user) emulates it: at DRIVER_OK it hands the rings to
 * its backend, at reset it takes them back.
 */

#ifndef VIREO_TRANSPORT_H
#define VIREO_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vireo_dev;
struct vireo_queue;

struct vireo_transport_ops {
	const char *name;
	/*
	 * A legacy (pre-1.0) device interface: 32 feature bits, no
	 * VERSION_1 and no FEATURES_OK step, split rings in the legacy
	 * layout (VIREO_VQ_OPT_LEGACY_LAYOUT) whose size the device fixes,
	 * and a 10-byte net header unless MRG_RXBUF is negotiated.
	 */
	bool legacy;
	/* Features the device offers. */
	uint64_t (*get_features)(struct vireo_dev *dev);
	/* Features the driver accepts; a transport may refuse them. */
	int (*set_features)(struct vireo_dev *dev, uint64_t features);
	uint8_t (*get_status)(struct vireo_dev *dev);
	/* 0 resets the device; other values add bits. */
	int (*set_status)(struct vireo_dev *dev, uint8_t status);
	/* Device configuration space (struct vireo_net_config). */
	int (*read_config)(struct vireo_dev *dev, size_t offset, void *buf,
			   size_t len);
	int (*write_config)(struct vireo_dev *dev, size_t offset,
			    const void *buf, size_t len);
	/* Largest size queue 'index' takes; 0: no such queue. */
	uint16_t (*queue_max_size)(struct vireo_dev *dev, uint16_t index);
	/* Tell the device where the rings of q are; set q's notifier. */
	int (*queue_setup)(struct vireo_dev *dev, struct vireo_queue *q);
	void (*queue_release)(struct vireo_dev *dev, struct vireo_queue *q);
	/* Start or stop the device using a queue (after DRIVER_OK). */
	int (*queue_enable)(struct vireo_dev *dev, uint16_t index, bool on);
	/* Interrupt eventfd of a queue (Rx interrupts), or -1. */
	int (*queue_intr_fd)(struct vireo_dev *dev, uint16_t index);
	/* Interrupt eventfd for config/link changes, or -1. */
	int (*config_intr_fd)(struct vireo_dev *dev);
	/* Link state as the transport sees it (backend connected). */
	bool (*link_up)(struct vireo_dev *dev);
	/*
	 * Run a control queue request synchronously where the transport
	 * emulates the device (virtio-user); NULL where a real device
	 * consumes the control queue.
	 */
	int (*ctrl_handle)(struct vireo_dev *dev, struct vireo_queue *cvq);
	/* The port is closed: drop the device (socket, fds, threads). */
	void (*close)(struct vireo_dev *dev);
};

#endif /* VIREO_TRANSPORT_H */
