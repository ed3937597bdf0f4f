/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The Vireo Authors
 */

/*
 * net_vireo: the PCI driver of a virtio-net function inside a VM, bound
 * to uio_pci_generic, igb_uio or vfio-pci.  Probe maps the BARs through
 * DPDK's PCI bus, finds the virtio 1.x structures, and hands the device
 * to the common ethdev layer (vireo_ethdev.c), which drives the status
 * sequence, features and queues through vireo_pci_ops.
 *
 * Polling only: no interrupt is used.  An EAL alarm watches the device
 * once a second for link changes (config status), NEEDS_RESET and a
 * device that stopped answering, and raises LSC events.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_alarm.h>
#include <rte_common.h>
#include <rte_eal.h>
#include <rte_io.h>
#include <rte_kvargs.h>
#include <rte_malloc.h>
#include <rte_bus_pci.h>
#include <bus_pci_driver.h>
#include <ethdev_driver.h>
#include <ethdev_pci.h>

#include "../vireo_log.h"
#include "../vireo_rxtx.h"
#include "vireo_pci.h"

#define VIREO_PCI_WATCH_US	(1000 * 1000)

/* ---- devargs ---- */

static int
vireo_pci_parse_uint(const char *value, uint64_t min, uint64_t max,
		     uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (value == NULL || *value == '\0' || *value == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(value, &end, 0);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

struct vireo_pci_kv {
	const char *key;
	uint64_t min, max;
	const char *accepted;
};

static const struct vireo_pci_kv vireo_pci_keys[] = {
	{ "packed_vq", 0, 1, "0 or 1" },
	{ "mrg_rxbuf", 0, 1, "0 or 1" },
	{ "in_order", 0, 1, "0 or 1" },
	{ "cq", 0, 1, "0 or 1" },
	{ "vectorized", 0, 1, "0 or 1" },
	{ "queue_size", 1, 32768, "1 to 32768 (a power of two for the split layout)" },
	{ "speed", 1, 400000, "link speed in Mbps, 1 to 400000" },
};

static void
vireo_pci_devargs_store(struct vireo_pci_devargs *da, unsigned int key,
			uint64_t v)
{
	switch (key) {
	case 0: da->packed_vq = v; break;
	case 1: da->mrg_rxbuf = v; break;
	case 2: da->in_order = v; break;
	case 3: da->cq = v; break;
	case 4: da->vectorized = v; break;
	case 5: da->queue_size = v; break;
	default: da->speed = v; break;
	}
}

static int
vireo_pci_devargs_parse(const char *name, const struct rte_devargs *devargs,
			struct vireo_pci_devargs *da)
{
	struct rte_kvargs *kvlist;
	unsigned int i, k;
	int ret = 0;

	memset(da, 0, sizeof(*da));
	da->packed_vq = true;
	da->mrg_rxbuf = true;
	da->in_order = true;
	da->cq = true;
	if (devargs == NULL || devargs->args == NULL || devargs->args[0] == '\0')
		return 0;
	kvlist = rte_kvargs_parse(devargs->args, NULL);
	if (kvlist == NULL) {
		VIREO_INIT_LOG(ERR, "%s: cannot parse devargs \"%s\"", name,
			       devargs->args);
		return -EINVAL;
	}
	for (i = 0; i < kvlist->count && ret == 0; i++) {
		const struct rte_kvargs_pair *p = &kvlist->pairs[i];
		uint64_t v;

		for (k = 0; k < RTE_DIM(vireo_pci_keys); k++)
			if (strcmp(p->key, vireo_pci_keys[k].key) == 0)
				break;
		if (k == RTE_DIM(vireo_pci_keys)) {
			VIREO_INIT_LOG(ERR, "%s: unknown devarg %s; accepted: %s",
				       name, p->key, VIREO_PCI_PARAM_STRING);
			ret = -EINVAL;
		} else if (vireo_pci_parse_uint(p->value, vireo_pci_keys[k].min,
						vireo_pci_keys[k].max, &v) != 0) {
			VIREO_INIT_LOG(ERR, "%s: invalid devarg %s=%s: accepted values: %s",
				       name, p->key, p->value ? p->value : "(none)",
				       vireo_pci_keys[k].accepted);
			ret = -EINVAL;
		} else {
			vireo_pci_devargs_store(da, k, v);
		}
	}
	rte_kvargs_free(kvlist);
	if (ret == 0 && da->queue_size != 0 && !da->packed_vq &&
	    !rte_is_power_of_2(da->queue_size)) {
		VIREO_INIT_LOG(ERR, "%s: invalid devarg queue_size=%u: the split layout (packed_vq=0) needs a power of two",
			       name, da->queue_size);
		ret = -EINVAL;
	}
	return ret;
}

static uint64_t
vireo_pci_wanted_features(const struct vireo_pci_devargs *da)
{
	/* ACCESS_PLATFORM: the device reaches memory through the platform's
	 * IOMMU (QEMU iommu_platform=on), which is what the IOVAs we give
	 * it are for; a device offering it refuses a driver that does not
	 * take it. */
	return vireo_wanted_features(VIREO_BIT(VIREO_F_ACCESS_PLATFORM) |
				     VIREO_BIT(VIREO_NET_F_MTU),
				     da->packed_vq, da->mrg_rxbuf, da->in_order,
				     da->cq);
}

/* ---- link watcher ---- */

static void vireo_pci_watch(void *arg);

static void
vireo_pci_watch_arm(struct vireo_pci *vp)
{
	if (rte_eal_alarm_set(VIREO_PCI_WATCH_US, vireo_pci_watch, vp) == 0)
		vp->watching = true;
	else
		VIREO_DRV_LOG(ERR, "%s: cannot arm the link watcher",
			      vp->pci_dev->device.name);
}

static void
vireo_pci_watch(void *arg)
{
	struct vireo_pci *vp = arg;
	uint8_t isr = 0;

	vp->watching = false;
	if (vp->closing)
		return;
	/* Reading the ISR acknowledges it; its config bit tells a config
	 * change happened even if we would not see its effect (a link
	 * flap shorter than our period). */
	if (!vp->gone)
		isr = vireo_pci_isr(vp);
	if (isr != 0xff && (isr & VIREO_PCI_ISR_CONFIG))
		VIREO_DRV_LOG(DEBUG, "%s: device configuration changed",
			      vp->pci_dev->device.name);
	/* Logs NEEDS_RESET / a vanished device once, then the ethdev layer
	 * reads the link (down in both cases) and raises LSC. */
	vireo_pci_device_ok(vp);
	vireo_dev_link_changed(vp->eth_dev);
	vireo_pci_watch_arm(vp);
}

/* ---- probe and remove ---- */

void
vireo_pci_transport_free(struct vireo_pci *vp)
{
	vp->closing = true;
	/* Waits for a watcher run in progress on the interrupt thread. */
	rte_eal_alarm_cancel(vireo_pci_watch, vp);
	if ((vp->common != NULL || vp->legacy) && !vp->gone)
		vireo_pci_reset(vp);
	if (vp->legacy)
		vireo_pci_legacy_fini(vp);
	rte_free(vp);
}

static int
vireo_pci_probe_secondary(struct rte_pci_device *pci_dev)
{
	struct rte_eth_dev *eth_dev;

	eth_dev = rte_eth_dev_pci_allocate(pci_dev, 0);
	if (eth_dev == NULL)
		return -ENOMEM;
	eth_dev->dev_ops = &vireo_eth_dev_ops_secondary;
	vireo_path_attach(eth_dev);
	rte_eth_dev_probing_finish(eth_dev);
	return 0;
}

static int
vireo_pci_probe(struct rte_pci_driver *drv __rte_unused,
		struct rte_pci_device *pci_dev)
{
	const char *name = pci_dev->device.name;
	struct vireo_pci_devargs devargs;
	struct rte_eth_dev *eth_dev;
	struct vireo_dev *dev;
	struct vireo_pci *vp;
	int ret;

	if (rte_eal_process_type() == RTE_PROC_SECONDARY)
		return vireo_pci_probe_secondary(pci_dev);

	ret = vireo_pci_devargs_parse(name, pci_dev->device.devargs, &devargs);
	if (ret != 0)
		return ret;
	ret = rte_pci_map_device(pci_dev);
	if (ret != 0) {
		VIREO_INIT_LOG(ERR, "%s: cannot map the device's BARs: bind it to vfio-pci, uio_pci_generic or igb_uio",
			       name);
		return -EIO;
	}
	vp = rte_zmalloc_socket("vireo_pci", sizeof(*vp), RTE_CACHE_LINE_SIZE,
				pci_dev->device.numa_node);
	if (vp == NULL) {
		ret = -ENOMEM;
		goto fail_unmap;
	}
	vp->pci_dev = pci_dev;
	rte_spinlock_init(&vp->lock);
	/* The modern interface wherever the device has it (a transitional
	 * device too); the legacy one only when it is all there is. */
	ret = vireo_pci_modern_init(vp);
	if (ret == -ENOTSUP)
		ret = vireo_pci_legacy_init(vp);
	if (ret != 0)
		goto fail_free;
	VIREO_INIT_LOG(INFO, "%s: using the %s interface", name,
		       vp->legacy ? "legacy virtio-pci" : "virtio 1.x");

	eth_dev = rte_eth_dev_pci_allocate(pci_dev, sizeof(*dev));
	if (eth_dev == NULL) {
		ret = -ENOMEM;
		goto fail_free;
	}
	eth_dev->data->mac_addrs = rte_zmalloc("vireo_mac",
			VIREO_MAX_MAC_ADDRS * RTE_ETHER_ADDR_LEN, 0);
	if (eth_dev->data->mac_addrs == NULL) {
		ret = -ENOMEM;
		goto fail_release;
	}
	vp->eth_dev = eth_dev;
	dev = eth_dev->data->dev_private;
	dev->ops = vp->legacy ? &vireo_pci_legacy_ops : &vireo_pci_ops;
	dev->transport = vp;
	dev->use_va = false;
	dev->queue_size = devargs.queue_size;
	dev->speed = devargs.speed;
	dev->vectorized_allowed = devargs.vectorized;
	dev->max_queue_pairs = 1;
	dev->max_mtu = RTE_ETHER_MTU;
	rte_eth_random_addr(dev->mac.addr_bytes);

	ret = vireo_dev_init(eth_dev, vireo_pci_wanted_features(&devargs));
	if (ret != 0)
		goto fail_release;
	if (!vireo_has(dev, VIREO_NET_F_MAC))
		VIREO_INIT_LOG(NOTICE, "%s: device has no MAC address: using random " RTE_ETHER_ADDR_PRT_FMT,
			       name, RTE_ETHER_ADDR_BYTES(&dev->mac));
	vireo_pci_watch_arm(vp);
	rte_eth_dev_probing_finish(eth_dev);
	VIREO_INIT_LOG(INFO, "%s: probed: port %u, MAC " RTE_ETHER_ADDR_PRT_FMT ", %u queue pair(s), %s layout, mergeable %s",
		       name, eth_dev->data->port_id,
		       RTE_ETHER_ADDR_BYTES(&dev->mac), dev->max_queue_pairs,
		       dev->packed ? "packed" : "split",
		       dev->mergeable ? "on" : "off");
	return 0;

fail_release:
	dev = eth_dev->data->dev_private;
	dev->transport = NULL;
	/* Frees mac_addrs and the private data too. */
	rte_eth_dev_release_port(eth_dev);
fail_free:
	if (vp->common != NULL || vp->legacy)
		vireo_pci_reset(vp);
	if (vp->legacy)
		vireo_pci_legacy_fini(vp);
	rte_free(vp);
fail_unmap:
	rte_pci_unmap_device(pci_dev);
	return ret;
}

static int
vireo_pci_remove(struct rte_pci_device *pci_dev)
{
	struct rte_eth_dev *eth_dev;

	eth_dev = rte_eth_dev_allocated(pci_dev->device.name);
	if (rte_eal_process_type() != RTE_PROC_PRIMARY) {
		if (eth_dev != NULL)
			rte_eth_dev_release_port(eth_dev);
		return 0;
	}
	/* Close resets the device and releases the port. */
	if (eth_dev != NULL)
		rte_eth_dev_close(eth_dev->data->port_id);
	rte_pci_unmap_device(pci_dev);
	return 0;
}

static const struct rte_pci_id vireo_pci_id_table[] = {
	{ RTE_PCI_DEVICE(VIREO_PCI_VENDOR_ID, VIREO_PCI_DEVICE_TRANSITIONAL) },
	{ RTE_PCI_DEVICE(VIREO_PCI_VENDOR_ID, VIREO_PCI_DEVICE_MODERN) },
	{ .vendor_id = 0 },
};

static struct rte_pci_driver vireo_pci_driver = {
	.id_table = vireo_pci_id_table,
	/* BARs are mapped in probe, so a failure gets our message. */
	.drv_flags = 0,
	.probe = vireo_pci_probe,
	.remove = vireo_pci_remove,
};

RTE_PMD_REGISTER_PCI(net_vireo, vireo_pci_driver);
RTE_PMD_REGISTER_PCI_TABLE(net_vireo, vireo_pci_id_table);
RTE_PMD_REGISTER_KMOD_DEP(net_vireo, "* igb_uio | uio_pci_generic | vfio-pci");
RTE_PMD_REGISTER_PARAM_STRING(net_vireo, VIREO_PCI_PARAM_STRING);
