/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Trace events of asb.ko: events/asb/{asb_ask,asb_verdict,asb_deny}.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM asb

#if !defined(ASB_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define ASB_TRACE_H

#include <linux/tracepoint.h>
#include <linux/string.h>

/*
 * Strings are cut to these lengths on the trace pipe (fixed arrays: the
 * __string() helpers changed between the kernels supported).
 */
#define ASB_TRACE_EXE	64
#define ASB_TRACE_OBJ	128
#define ASB_TRACE_WHY	16

/* An ask sent to agentd; the thread sleeps until the verdict. */
TRACE_EVENT(asb_ask,
	TP_PROTO(u32 id, u32 sandbox, pid_t pid, u32 action, u32 timeout_ms,
		 const char *exe, const char *object),
	TP_ARGS(id, sandbox, pid, action, timeout_ms, exe, object),
	TP_STRUCT__entry(
		__field(u32, id)
		__field(u32, sandbox)
		__field(pid_t, pid)
		__field(u32, action)
		__field(u32, timeout_ms)
		__array(char, exe, ASB_TRACE_EXE)
		__array(char, object, ASB_TRACE_OBJ)
	),
	TP_fast_assign(
		__entry->id = id;
		__entry->sandbox = sandbox;
		__entry->pid = pid;
		__entry->action = action;
		__entry->timeout_ms = timeout_ms;
		strscpy(__entry->exe, exe, ASB_TRACE_EXE);
		strscpy(__entry->object, object, ASB_TRACE_OBJ);
	),
	TP_printk("id=%u sandbox=%u pid=%d action=%u timeout_ms=%u exe=%s object=%s",
		  __entry->id, __entry->sandbox, __entry->pid, __entry->action,
		  __entry->timeout_ms, __entry->exe, __entry->object)
);

/* agentd's verdict on a pending ask (1 allow, 2 deny). */
TRACE_EVENT(asb_verdict,
	TP_PROTO(u32 id, u32 verdict, u32 portid),
	TP_ARGS(id, verdict, portid),
	TP_STRUCT__entry(
		__field(u32, id)
		__field(u32, verdict)
		__field(u32, portid)
	),
	TP_fast_assign(
		__entry->id = id;
		__entry->verdict = verdict;
		__entry->portid = portid;
	),
	TP_printk("id=%u verdict=%s portid=%u", __entry->id,
		  __entry->verdict == 1 ? "allow" : "deny", __entry->portid)
);

/* An ask that ends in deny, and why. id 0: never sent. */
TRACE_EVENT(asb_deny,
	TP_PROTO(u32 id, u32 sandbox, pid_t pid, u32 action, const char *reason),
	TP_ARGS(id, sandbox, pid, action, reason),
	TP_STRUCT__entry(
		__field(u32, id)
		__field(u32, sandbox)
		__field(pid_t, pid)
		__field(u32, action)
		__array(char, reason, ASB_TRACE_WHY)
	),
	TP_fast_assign(
		__entry->id = id;
		__entry->sandbox = sandbox;
		__entry->pid = pid;
		__entry->action = action;
		strscpy(__entry->reason, reason, ASB_TRACE_WHY);
	),
	TP_printk("id=%u sandbox=%u pid=%d action=%u reason=%s",
		  __entry->id, __entry->sandbox, __entry->pid, __entry->action,
		  __entry->reason)
);

#endif /* ASB_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
