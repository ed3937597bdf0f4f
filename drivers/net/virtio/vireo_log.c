/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The Vireo Authors
 */

#include "vireo_log.h"

RTE_LOG_REGISTER(vireo_logtype_init, pmd.net.vireo.init, NOTICE);
RTE_LOG_REGISTER(vireo_logtype_driver, pmd.net.vireo.driver, NOTICE);
RTE_LOG_REGISTER(vireo_logtype_rx, pmd.net.vireo.rx, NOTICE);
RTE_LOG_REGISTER(vireo_logtype_tx, pmd.net.vireo.tx, NOTICE);
RTE_LOG_REGISTER(vireo_logtype_cvq, pmd.net.vireo.cvq, NOTICE);
RTE_LOG_REGISTER(vireo_logtype_user, pmd.net.vireo.user, INFO);
