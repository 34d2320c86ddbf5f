"""Geography domain: prefectures, regional offices (振興局), municipalities."""
