/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The Vireo Authors
 */

/*
 * vireo-rxintr: what dpdk-l3fwd-power does with Rx interrupts, without
 * the routing.  Port 0's Rx queues are polled while frames come; once
 * they have been idle for a while every queue's interrupt is armed and
 * the lcore sleeps in rte_epoll_wait() until the device signals one.
 *
 * usage: vireo-rxintr [EAL options] -- [--queues N] [--idle-polls N]
 *
 * One line per event, for the system tests to follow:
 *   rxintr: port 0 started with N Rx queues
 *   rxintr: sleeping (received R: q0 A q1 B ...)
 *   rxintr: woken by queue Q
 *   rxintr: done: received R, wakeups W
 * It runs until SIGINT or SIGTERM.
 */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_eal.h>
#include <rte_epoll.h>
#include <rte_ethdev.h>
#include <rte_interrupts.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#define RXINTR_BURST		32
#define RXINTR_MAX_QUEUES	16
#define RXINTR_POOL_SIZE	8191
/* epoll waits are cut in slices so a signal ends the program quickly. */
#define RXINTR_WAIT_MS		100

static volatile sig_atomic_t rxintr_quit;

static void
rxintr_on_signal(int sig __rte_unused)
{
	rxintr_quit = 1;
}

struct rxintr_state {
	uint16_t port;
	uint16_t nb_queues;
	uint64_t idle_polls;
	uint64_t received;
	uint64_t wakeups;
	uint64_t per_queue[RXINTR_MAX_QUEUES];
};

static void
rxintr_usage(const char *prog)
{
	fprintf(stderr, "usage: %s [EAL options] -- [--queues N] [--idle-polls N]\n",
		prog);
}

static int
rxintr_parse(struct rxintr_state *st, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "queues", required_argument, NULL, 'q' },
		{ "idle-polls", required_argument, NULL, 'i' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'q':
			st->nb_queues = (uint16_t)strtoul(optarg, &end, 0);
			if (*end != '\0' || st->nb_queues == 0 ||
			    st->nb_queues > RXINTR_MAX_QUEUES)
				return -EINVAL;
			break;
		case 'i':
			st->idle_polls = strtoull(optarg, &end, 0);
			if (*end != '\0' || st->idle_polls == 0)
				return -EINVAL;
			break;
		default:
			return -EINVAL;
		}
	}
	return 0;
}

static int
rxintr_port_init(struct rxintr_state *st, struct rte_mempool *mp)
{
	struct rte_eth_conf conf;
	int socket = rte_eth_dev_socket_id(st->port);
	uint16_t q;
	int ret;

	memset(&conf, 0, sizeof(conf));
	conf.intr_conf.rxq = 1;
	ret = rte_eth_dev_configure(st->port, st->nb_queues, st->nb_queues,
				    &conf);
	if (ret != 0) {
		printf("rxintr: configure failed: %s\n", rte_strerror(-ret));
		return ret;
	}
	for (q = 0; q < st->nb_queues; q++) {
		ret = rte_eth_rx_queue_setup(st->port, q, 0, socket, NULL, mp);
		if (ret == 0)
			ret = rte_eth_tx_queue_setup(st->port, q, 0, socket,
						     NULL);
		if (ret != 0) {
			printf("rxintr: queue %u setup failed: %s\n", q,
			       rte_strerror(-ret));
			return ret;
		}
	}
	ret = rte_eth_dev_start(st->port);
	if (ret != 0) {
		printf("rxintr: start failed: %s\n", rte_strerror(-ret));
		return ret;
	}
	/* Every queue's event fd into this thread's epoll set, with the
	 * queue id as the event's data. */
	for (q = 0; q < st->nb_queues; q++) {
		ret = rte_eth_dev_rx_intr_ctl_q(st->port, q,
						RTE_EPOLL_PER_THREAD,
						RTE_INTR_EVENT_ADD,
						(void *)(uintptr_t)q);
		if (ret != 0) {
			printf("rxintr: queue %u: rte_eth_dev_rx_intr_ctl_q failed: %s\n",
			       q, rte_strerror(-ret));
			return ret;
		}
	}
	printf("rxintr: port %u started with %u Rx queues\n", st->port,
	       st->nb_queues);
	return 0;
}

/* One pass over every queue; returns the frames received (and freed). */
static uint16_t
rxintr_poll(struct rxintr_state *st)
{
	struct rte_mbuf *pkts[RXINTR_BURST];
	uint16_t q, n, got = 0;

	for (q = 0; q < st->nb_queues; q++) {
		n = rte_eth_rx_burst(st->port, q, pkts, RXINTR_BURST);
		if (n == 0)
			continue;
		rte_pktmbuf_free_bulk(pkts, n);
		st->per_queue[q] += n;
		got += n;
	}
	st->received += got;
	return got;
}

static void
rxintr_arm(struct rxintr_state *st, bool on)
{
	uint16_t q;

	for (q = 0; q < st->nb_queues; q++) {
		if (on)
			rte_eth_dev_rx_intr_enable(st->port, q);
		else
			rte_eth_dev_rx_intr_disable(st->port, q);
	}
}

static void
rxintr_print_sleep(const struct rxintr_state *st)
{
	uint16_t q;

	printf("rxintr: sleeping (received %" PRIu64 ":", st->received);
	for (q = 0; q < st->nb_queues; q++)
		printf(" q%u %" PRIu64, q, st->per_queue[q]);
	printf(")\n");
}

/* Sleeps until a queue signals; returns -1 on an epoll error. */
static int
rxintr_sleep(struct rxintr_state *st)
{
	struct rte_epoll_event ev[RXINTR_MAX_QUEUES];
	int n = 0, i;

	rxintr_print_sleep(st);
	while (!rxintr_quit && n == 0)
		n = rte_epoll_wait(RTE_EPOLL_PER_THREAD, ev, st->nb_queues,
				   RXINTR_WAIT_MS);
	if (n < 0) {
		printf("rxintr: rte_epoll_wait failed\n");
		return -1;
	}
	if (n > 0)
		st->wakeups++;
	for (i = 0; i < n; i++)
		printf("rxintr: woken by queue %u\n",
		       (unsigned int)(uintptr_t)ev[i].epdata.data);
	return 0;
}

static int
rxintr_loop(struct rxintr_state *st)
{
	uint64_t idle = 0;

	while (!rxintr_quit) {
		if (rxintr_poll(st) > 0) {
			idle = 0;
			continue;
		}
		if (++idle < st->idle_polls)
			continue;
		/* Arm, then look once more: a frame used between the last
		 * poll and the arming raises no event. */
		rxintr_arm(st, true);
		if (rxintr_poll(st) == 0 && rxintr_sleep(st) != 0) {
			rxintr_arm(st, false);
			return -1;
		}
		rxintr_arm(st, false);
		idle = 0;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct rxintr_state st;
	struct rte_mempool *mp;
	int ret;

	setvbuf(stdout, NULL, _IOLBF, 0);
	memset(&st, 0, sizeof(st));
	st.nb_queues = 1;
	st.idle_polls = 100000;

	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		printf("rxintr: EAL init failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	if (rxintr_parse(&st, argc - ret, argv + ret) != 0) {
		rxintr_usage(argv[0]);
		rte_eal_cleanup();
		return 2;
	}
	signal(SIGINT, rxintr_on_signal);
	signal(SIGTERM, rxintr_on_signal);

	if (rte_eth_dev_count_avail() == 0) {
		printf("rxintr: no port\n");
		rte_eal_cleanup();
		return 1;
	}
	st.port = 0;
	mp = rte_pktmbuf_pool_create("rxintr_pool", RXINTR_POOL_SIZE, 256, 0,
				     RTE_MBUF_DEFAULT_BUF_SIZE,
				     rte_socket_id());
	if (mp == NULL) {
		printf("rxintr: no mbuf pool: %s\n", rte_strerror(rte_errno));
		rte_eal_cleanup();
		return 1;
	}
	ret = rxintr_port_init(&st, mp);
	if (ret == 0)
		ret = rxintr_loop(&st);
	printf("rxintr: done: received %" PRIu64 ", wakeups %" PRIu64 "\n",
	       st.received, st.wakeups);
	rte_eth_dev_stop(st.port);
	rte_eth_dev_close(st.port);
	rte_mempool_free(mp);
	rte_eal_cleanup();
	return ret == 0 ? 0 : 1;
}
