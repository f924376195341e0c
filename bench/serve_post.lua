-- wrk script for bench/serve_load.sh: POSTs the file $BODY_FILE to the URL's path as a raw body.
local f = assert(io.open(os.getenv("BODY_FILE"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
wrk.headers["Content-Type"] = "application/octet-stream"
f:close()
