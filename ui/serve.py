"""`qa serve`: the HTTP API and the chat in one app, behind one gate, on one port."""

from __future__ import annotations

import argparse

from qa.settings import Settings


def register(commands: argparse._SubParsersAction) -> None:
    serve = commands.add_parser("serve", help="serve the HTTP API and the chat")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.set_defaults(run=run)


def run(args, settings: Settings) -> int:
    """The chat is mounted on the API's app, so the gate in front of that app guards both."""
    import uvicorn

    from qa.api.app import create_app
    from qa.service import QAService
    from ui.app import mount

    host = args.host or settings.host
    port = args.port or settings.port
    service = QAService.from_settings(settings)
    app = mount(create_app(service), service)
    print(f"Serving the chat on http://{host}:{port}/ and the API on http://{host}:{port}/v1 (docs: /docs)", flush=True)
    try:
        # Forwarded addresses are the app's to trust (QA_TRUSTED_PROXIES), not uvicorn's.
        uvicorn.run(app, host=host, port=port, log_level="info", proxy_headers=False)
    finally:
        service.close()
    return 0
