/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The kselftest harness as asb's tests use it. The same tests run on the
 * host and in emulated guests (the VM lane, qemu TCG, 10-50x slower), so
 * the per-test limit is generous: a test that passes never waits for it.
 */
#ifndef ASB_TEST_H
#define ASB_TEST_H

#include "kselftest/kselftest_harness.h"

#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT 180

#endif
