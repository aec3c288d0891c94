"""The portal's pages, one module per area; ``web.app.ROUTERS`` lists them."""
