# sandbox: privilege drop, Landlock and seccomp, each case in a forked
# child.  libipc.a carries sandbox.c and PKG_LIBS already has -lseccomp.
$(eval $(call unit,sandbox,,))
