# gatewayd's SQLite state (svc/gatewayd/store.c).  gatewayd's own
# fragment lists store.c among its sources and links $(STORE_LIBS).
STORE_LIBS	:= $(shell pkg-config --libs sqlite3)

$(eval $(call unit,store,svc/gatewayd/store.c,$(STORE_LIBS)))
