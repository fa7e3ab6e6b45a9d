/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * asb socket filter (portable backend, bpf/sock.bpf.c): the ring-buffer
 * event record and the BPF map key/value layouts, shared by the BPF
 * programs and agentd (agentd/sockfilter.c). One definition each.
 */
#ifndef ASB_EVENT_H
#define ASB_EVENT_H

#ifdef __bpf__
/* BPF side: the types come from vmlinux.h. */
#else
#include <linux/types.h>
#endif

/* Rule index values that are not an index into the image's rule array. */
#define ASB_RULE_NONE		0xffffffffu	/* the sandbox's default deny */
#define ASB_RULE_FAMILIES	0xfffffffeu	/* net.deny_families / raw */

/* Sandbox id of an event from a cgroup that no sandbox is registered for. */
#define ASB_SB_NONE		0xffffffffu

#define ASB_COMM_LEN		16
#define ASB_UNIX_PATH_MAX	108	/* sizeof(sockaddr_un.sun_path) */

/* What the process tried. */
enum asb_sock_action {
	ASB_ACT_CONNECT4 = 1,
	ASB_ACT_CONNECT6,
	ASB_ACT_SENDMSG4,
	ASB_ACT_SENDMSG6,
	ASB_ACT_BIND4,
	ASB_ACT_BIND6,
	ASB_ACT_SOCKET,
	ASB_ACT_UNIX_CONNECT,
	ASB_ACT_UNIX_SENDMSG,
	/* BPF-LSM backend (bpf/lsm.bpf.c, see include/asb/lsm.h) */
	ASB_ACT_FILE_READ,	/* open for reading */
	ASB_ACT_FILE_WRITE,	/* open for writing, truncate */
	ASB_ACT_FILE_EXEC,
	ASB_ACT_FILE_CREATE,	/* mknod, mkdir, symlink, O_CREAT */
	ASB_ACT_FILE_REMOVE,	/* unlink, rmdir */
	ASB_ACT_FILE_RENAME,
	ASB_ACT_FILE_LINK,
	ASB_ACT_MOUNT,		/* mount, umount, move_mount, pivot_root */
	/* every backend (bpf/exec.bpf.c) */
	ASB_ACT_EXEC_INTERP,	/* an ELF interpreter run as a program: killed */
	/* every backend (bpf/sock.bpf.c): a segment to a listener that no
	 * net.bind rule grants, dropped (no task: pid 0) */
	ASB_ACT_LISTEN4,
	ASB_ACT_LISTEN6,
	/* BPF-LSM backend: bind() of an abstract unix name, refused */
	ASB_ACT_UNIX_BIND,
	/* BPF-LSM backend: a process outside the sandbox signalled, traced
	 * or rescheduled (addr: its tgid, path: its comm, sock_type: what,
	 * protocol: the signal or ptrace mode) */
	ASB_ACT_TASK,
	/* every backend (bpf/sock.bpf.c): a datagram to a UDP socket that no
	 * net.bind rule grants, from a source no net.connect or
	 * approve.connect rule names, dropped (addr, port: the source; no
	 * task: pid 0) */
	ASB_ACT_RECV4,
	ASB_ACT_RECV6,
	/* every backend (bpf/sock.bpf.c): setsockopt of IP_RECVERR or
	 * IPV6_RECVERR (sock_type: the level, protocol: the option) */
	ASB_ACT_SOCKOPT,
	ASB_ACT_MAX = ASB_ACT_SOCKOPT,
};

/* asb_event.sock_type of ASB_ACT_TASK */
enum asb_task_what {
	ASB_TASK_SIGNAL,
	ASB_TASK_PTRACE,
	ASB_TASK_SCHED,		/* nice, I/O priority, scheduler, memory */
};

/* asb_event.verdict */
enum asb_event_verdict {
	ASB_EV_ALLOW = 0,
	ASB_EV_DENY = 1,
};

/*
 * asb_event.flags. ASB_EVF_ASK: the destination matches an approve.connect
 * rule; it was let through only because agentd had left a one-shot entry
 * for this thread and this very address (asb_oneshot below), or, with the
 * verdict deny, refused because there was none.
 */
#define ASB_EVF_ASK		(1u << 0)
#define ASB_EVF_ABSTRACT	(1u << 1)	/* path: abstract unix name */

/*
 * One event in the ring buffer. addr is in network order (IPv4 in the first
 * four bytes), port in host order. path is the unix socket name, NUL
 * terminated; an abstract name is shown with a leading '@'. For
 * ASB_ACT_SOCKET, family/sock_type/protocol are socket()'s arguments.
 */
struct asb_event {
	__u64 time_ns;		/* CLOCK_BOOTTIME */
	__u32 sandbox;		/* sandbox id or ASB_SB_NONE */
	__u32 pid;		/* tgid */
	__u32 tid;
	__u32 uid;
	__u32 rule;		/* image rule index, ASB_RULE_NONE/_FAMILIES */
	__u16 action;		/* enum asb_sock_action */
	__u8 verdict;		/* enum asb_event_verdict */
	__u8 flags;		/* ASB_EVF_* */
	__u16 family;		/* AF_* */
	__u16 port;
	__u16 sock_type;
	__u16 protocol;
	__u8 addr[16];
	char comm[ASB_COMM_LEN];
	char path[ASB_UNIX_PATH_MAX];
	__u32 reserved;
};

/*
 * Maps (pinned under agentd's pin directory with these names):
 *
 *   asb_member   hash    __u64 cgroup id -> __u32 sandbox id
 *   asb_sandbox  hash    __u32 sandbox id -> struct asb_sb_conf
 *   asb_net4     lpm     struct asb_net4_key -> struct asb_net_val
 *   asb_net6     lpm     struct asb_net6_key -> struct asb_net_val
 *   asb_unix     lpm     struct asb_unix_key -> __u32 rule index
 *   asb_denies   percpu hash  __u32 sandbox id -> __u64 denies
 *   asb_drops    percpu array [1] -> __u64 events lost (ring buffer full)
 *   asb_events   ringbuf of struct asb_event
 *
 * A task belongs to the sandbox of its cgroup or of the nearest ancestor
 * cgroup that is registered in asb_member (at most ASB_CGROUP_DEPTH deep);
 * asb_levels (array [1] of __u32) is the mask of the levels (below the
 * root) of the registered cgroups (bpf/member.h).
 *
 * Rule entries are keyed by a rule *set* id, not the sandbox id: each
 * sandbox has two banks, set = sbid * 2 + bank, and asb_sb_conf.set names
 * the live one. A replacement fills the other bank, then flips conf.set
 * with one map update, then empties the old bank.
 */
#define ASB_CGROUP_DEPTH	16
#define ASB_SBID_MAX		0x7fffffffu	/* so that sbid * 2 + 1 fits */

/* asb_sb_conf.flags besides ASB_SB_*: the sandbox has such approve.* rules */
#define ASB_SBC_ASK_EXEC	(1u << 30)
#define ASB_SBC_ASK_WRITE	(1u << 31)

struct asb_sb_conf {
	__u64 deny_families;	/* bit n: socket(AF n) refused */
	__u32 flags;		/* ASB_SB_* of include/asb/image.h, ASB_SBC_* */
	__u32 set;		/* live rule set: sbid * 2 + bank */
	__u32 default_rule;	/* rule index reported for the default deny */
	__u32 ask_timeout;	/* seconds: approve.timeout */
};

/*
 * LPM keys: prefixlen counts the bits of set and kind too (always fully
 * matched: ASB_NET_KEY_BITS) plus the address prefix. kind is
 * ASB_RULE_NET_CONNECT (which also holds ask.connect rules) or
 * ASB_RULE_NET_BIND.
 */
#define ASB_NET_KEY_BITS	64

struct asb_net4_key {
	__u32 prefixlen;
	__u32 set;
	__u32 kind;
	__u8 addr[4];
};

struct asb_net6_key {
	__u32 prefixlen;
	__u32 set;
	__u32 kind;
	__u8 addr[16];
};

/*
 * Port ranges of one prefix, with those of every shorter covering prefix
 * merged in by agentd, most specific prefix first: the first range that
 * holds the port decides and names the rule.
 */
#define ASB_NET_RANGES		16

struct asb_port_range {
	__u16 lo;		/* host order, inclusive */
	__u16 hi;
	__u32 rule;		/* image rule index */
};

struct asb_net_val {
	__u32 n;		/* ranges in use */
	__u32 ask;		/* bit i: r[i] is an ask.connect rule */
	struct asb_port_range r[ASB_NET_RANGES];
};

/*
 * Unix socket names. path holds a pathname ("/run/x.sock") or, for an
 * abstract name, a NUL byte then the name ("\0name"); the rest is zero.
 * An exact entry includes the terminating NUL in its prefix; a subtree
 * entry ends with '/' and no NUL. prefixlen counts set's 32 bits.
 */
#define ASB_UNIX_KEY_BITS	32

struct asb_unix_key {
	__u32 prefixlen;
	__u32 set;
	char path[ASB_UNIX_PATH_MAX];
};

/*
 * approve.connect, the kernel's final check. Before agentd lets a held
 * connect() go on (SECCOMP_USER_NOTIF_FLAG_CONTINUE) it writes the address
 * it approved here, keyed by sandbox and thread; every connect notification
 * of a thread first replaces or deletes its entry. The connect/sendmsg
 * programs allow a destination that matches an approve.connect rule only
 * if the entry exists and equals the address the kernel copied (the real
 * one, not the user memory agentd read), and consume it in the same step.
 *
 *   asb_oneshot  hash  struct asb_oneshot_key -> struct asb_oneshot_val
 */
struct asb_oneshot_key {
	__u32 sandbox;
	__u32 tid;		/* the thread that called connect() */
};

struct asb_oneshot_val {
	__u8 addr[16];		/* network order; IPv4 (also v4-mapped) in [0..3] */
	__u16 port;		/* host order */
	__u16 family;		/* AF_INET or AF_INET6 */
	__u32 reserved;
};

/*
 * approve.exec, the kernel's final check (bpf/exec.bpf.c). For every
 * execve/execveat that agentd lets go on for a sandbox with approve.exec
 * rules, it first records here, keyed by the calling thread, the file it
 * checked: (dev, ino) of the program, and for a "#!" script the
 * interpreter's (dev, ino) plus the exact filename string the script was
 * named by. At sched_process_exec (after the point of no return, before
 * the new image runs one instruction) the program consumes the entry and
 * sends SIGKILL if the file the kernel actually executed is another one.
 * An entry with ino 0 matches nothing (agentd could not resolve the path:
 * if the exec still succeeds, the process dies). Entries of exiting
 * threads are dropped at sched_process_exit.
 *
 *   asb_exec     hash  __u32 tid -> struct asb_exec_val
 *   asb_exec_kills  array [1] -> __u64 processes killed
 *
 * dev is the kernel's encoding (MAJOR << 20 | MINOR).
 */
#define ASB_EXEC_NAME_MAX	256

struct asb_exec_val {
	__u64 ino;
	__u64 interp_ino;	/* 0: not a script */
	__u32 dev;
	__u32 interp_dev;
	__u32 name_len;		/* script: strlen(name) */
	__u32 sandbox;
	__u64 argv_hash;	/* FNV-1a 64 of the argument strings, each with
				 * its NUL, as the new image gets them (for a
				 * script, as load_script() rewrites them) */
	__u32 argv_len;		/* their bytes; 0: not checked (unreadable,
				 * and nothing asked) */
	__u32 pad;
	char name[ASB_EXEC_NAME_MAX];
};

#define ASB_ARGV_MAX		(64 * 1024)	/* asked execs: more is refused */
#define ASB_FNV64_OFFSET	0xcbf29ce484222325ull
#define ASB_FNV64_PRIME		0x100000001b3ull

/*
 * ELF interpreters (ASB_RULE_F_INTERP rules of every image agentd applied):
 * run only as the interpreter of a granted program. A process of a sandbox
 * that executes one as its program (ld.so PROG) is killed at
 * sched_process_exec, before its first instruction.
 *
 *   asb_interp   hash  struct asb_interp_key -> __u8 1
 *   asb_exec_kills counts these kills too
 */
/*
 * What each process of a sandbox is, from the kernel's view, for the
 * broker (bpf/exec.bpf.c): its executable as of its last exec (inherited
 * at fork), and what it was when it made that exec.
 *
 *   asb_exe      LRU hash  __u32 tgid -> struct asb_exe_val  (now)
 *   asb_exe_prev LRU hash  __u32 tgid -> struct asb_exe_val  (before the
 *                          last exec)
 */
#define ASB_EXE_OVERLAY		(1u << 0)	/* dev is overlayfs's pseudo
						 * device: match ino alone */
#define ASB_EXE_TAINTED		(1u << 1)	/* exec'd with an LD_*
						 * variable: other code loaded */

struct asb_exe_val {
	__u64 ino;
	__u32 dev;		/* kernel encoding, of the real inode */
	__u32 flags;		/* ASB_EXE_* */
};

struct asb_interp_key {
	__u64 ino;
	__u32 dev;		/* kernel encoding, as asb_exec_val.dev */
	__u32 pad;
};

/*
 * Audit budget per sandbox (bpf/audit.h):
 *
 *   asb_budget   percpu hash  __u32 sandbox id -> struct asb_budget
 */
#define ASB_AUDIT_WINDOW_NS	(100 * 1000 * 1000ull)
#define ASB_AUDIT_PER_WINDOW	64

struct asb_budget {
	__u64 window;		/* CLOCK_MONOTONIC start of the window */
	__u32 used;		/* records in it */
	__u32 suppressed;	/* records not written since agentd read */
};

#endif /* ASB_EVENT_H */
