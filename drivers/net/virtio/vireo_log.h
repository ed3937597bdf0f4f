/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The Vireo Authors
 */

#ifndef VIREO_LOG_H
#define VIREO_LOG_H

#include <rte_cycles.h>
#include <rte_log.h>

/*
 * One log type per area, named pmd.net.vireo.<area>, so users can turn
 * on exactly what they debug: --log-level=pmd.net.vireo.user:debug.
 */
extern int vireo_logtype_init;
extern int vireo_logtype_driver;
extern int vireo_logtype_rx;
extern int vireo_logtype_tx;
extern int vireo_logtype_cvq;
extern int vireo_logtype_user;

#define VIREO_LOG(area, level, fmt, ...) \
	rte_log(RTE_LOG_ ## level, vireo_logtype_ ## area, \
		"vireo: %s(): " fmt "\n", __func__, ##__VA_ARGS__)

#define VIREO_INIT_LOG(level, fmt, ...) VIREO_LOG(init, level, fmt, ##__VA_ARGS__)
#define VIREO_DRV_LOG(level, fmt, ...) VIREO_LOG(driver, level, fmt, ##__VA_ARGS__)
#define VIREO_USER_LOG(level, fmt, ...) VIREO_LOG(user, level, fmt, ##__VA_ARGS__)
#define VIREO_CVQ_LOG(level, fmt, ...) VIREO_LOG(cvq, level, fmt, ##__VA_ARGS__)

/*
 * Data-path messages: at most one line per second per call site, so a
 * misbehaving device cannot flood the log from a burst function.
 */
#define VIREO_DP_LOG(area, level, fmt, ...) do { \
	static uint64_t vireo_last_log_tsc_; \
	uint64_t vireo_now_tsc_ = rte_get_timer_cycles(); \
	if (vireo_now_tsc_ - vireo_last_log_tsc_ > rte_get_timer_hz()) { \
		vireo_last_log_tsc_ = vireo_now_tsc_; \
		VIREO_LOG(area, level, fmt, ##__VA_ARGS__); \
	} \
} while (0)

#endif /* VIREO_LOG_H */
