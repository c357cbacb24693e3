# service.mk - dumpscoutd mails the digest rendered by the CLI's report (cli/report.c with its time
# helpers cli/when.c: the same text and HTML as `dumpscout report`), so those two objects are linked
# into it. They come after the archives on the link line, so the archives they use are named again.
SERVICE_REPORT_OBJ := $(call obj,cli/report.c cli/when.c)
$(SERVICE_BIN): $(SERVICE_REPORT_OBJ)
$(SERVICE_BIN): LIBS = $(LIBANALYZER) $(LIBCORE) $(PKG_LIBS) -lm -lpthread
