/* The default policy, embedded in the binaries. */
	.section .rodata
	.global asb_default_policy
	.global asb_default_policy_len
	.balign 8
asb_default_policy:
	.incbin POLICY_FILE
	.byte 0
asb_default_policy_end:
	.balign 8
asb_default_policy_len:
	.quad asb_default_policy_end - asb_default_policy - 1
	.section .note.GNU-stack,"",@progbits
