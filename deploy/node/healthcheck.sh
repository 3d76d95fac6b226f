#!/bin/sh
# Healthy when llama-server answers /health on the port it was configured with (LLAMA_ARG_PORT).
exec node -e "fetch('http://127.0.0.1:'+(process.env.LLAMA_ARG_PORT||8080)+'/health',{signal:AbortSignal.timeout(2000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
