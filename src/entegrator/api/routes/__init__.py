"""The API's routes, one module per resource; ``app.py`` includes their routers."""
