-- GET the URL given on the command line (wrk's own request), counting statuses.
dofile(os.getenv("WRK_LIB") .. "/report.lua")
