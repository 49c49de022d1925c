"""The read-only web dashboard (`monitor serve`): Starlette + uvicorn, imported only there."""
