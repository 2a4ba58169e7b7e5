"""A bare Quart app with one route: the yardstick the step routes are compared with."""

from quart import Quart

app = Quart(__name__)


@app.get("/")
async def hello() -> str:
    return "hello"
