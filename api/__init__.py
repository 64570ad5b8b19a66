"""The top floor: the FastAPI application and the operator CLI ``carbonledger``.

Nothing imports this package.
"""
