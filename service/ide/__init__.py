"""The browser IDE (GraphiQL and its explorer), served from the platform rather than a CDN.

`assets` holds the pinned npm files and their fetcher (standard library only); `page` renders
strawberry's GraphiQL page with local URLs and serves the files. `python -m service.ide`
installs the files.
"""
